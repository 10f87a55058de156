package broker

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/warrenmq/warren/segment/sysfile"
)

// offsetStore is a stream's server-side offset tracking: reference ->
// offset, in memory and in the stream directory's "offsets" file, one
// record per store (u32 crc32c of the rest, u8 reference length,
// reference, u64 offset), written at once (a kill -9 keeps it; no fsync:
// a machine crash may lose the last stores, which a consumer re-reads).
// The file is rewritten with the live entries when it holds four times
// as many records. mu is a leaf.
type offsetStore struct {
	dir     string
	onMkdir func() error
	mu      sync.Mutex
	m       map[string]uint64
	f       *os.File
	records int
	buf     []byte
}

func (o *offsetStore) path() string { return filepath.Join(o.dir, "offsets") }

func (o *offsetStore) load() error {
	o.m = map[string]uint64{}
	b, err := os.ReadFile(o.path())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for len(b) >= 5 {
		n := int(b[4])
		if len(b) < 5+n+8 {
			break // a torn last record
		}
		rec := b[4 : 5+n+8]
		if crc32.Checksum(rec, sysfile.Castagnoli) != binary.LittleEndian.Uint32(b) {
			break
		}
		o.m[string(rec[1:1+n])] = binary.LittleEndian.Uint64(rec[1+n:])
		o.records++
		b = b[5+n+8:]
	}
	return nil
}

func appendOffsetRecord(dst []byte, ref string, off uint64) []byte {
	at := len(dst)
	dst = append(dst, 0, 0, 0, 0, byte(len(ref)))
	dst = append(dst, ref...)
	dst = binary.LittleEndian.AppendUint64(dst, off)
	binary.LittleEndian.PutUint32(dst[at:], crc32.Checksum(dst[at+4:], sysfile.Castagnoli))
	return dst
}

func (o *offsetStore) store(ref string, off uint64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		return ErrStreamDeleted
	}
	if o.f == nil || o.records > 4*len(o.m)+64 {
		if err := o.rewriteLocked(ref, off); err != nil {
			return err
		}
		return nil
	}
	o.buf = appendOffsetRecord(o.buf[:0], ref, off)
	if _, err := o.f.Write(o.buf); err != nil {
		return err
	}
	o.m[ref] = off
	o.records++
	return nil
}

// rewriteLocked writes every entry (with ref set to off) to a new file and
// renames it over the old one.
func (o *offsetStore) rewriteLocked(ref string, off uint64) error {
	if _, err := os.Stat(o.dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(o.dir, 0o755); err != nil {
			return err
		}
		if o.onMkdir != nil {
			if err := o.onMkdir(); err != nil {
				return err
			}
		}
	}
	var b []byte
	for k, v := range o.m {
		if k != ref {
			b = appendOffsetRecord(b, k, v)
		}
	}
	b = appendOffsetRecord(b, ref, off)
	tmp := o.path() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, o.path()); err != nil {
		return err
	}
	if o.f != nil {
		o.f.Close()
	}
	f, err := os.OpenFile(o.path(), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		o.f = nil
		return err
	}
	o.f = f
	o.m[ref] = off
	o.records = len(o.m)
	return nil
}

func (o *offsetStore) query(ref string) (uint64, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	v, ok := o.m[ref]
	return v, ok
}

func (o *offsetStore) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.f != nil {
		o.f.Close()
		o.f = nil
	}
	o.m = nil
}
