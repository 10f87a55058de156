package segment

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"

	"golang.org/x/sys/unix"

	"github.com/warrenmq/warren/segment/sysfile"
)

// Recovered describes a segment as Open (or Rescan) found it.
type Recovered struct {
	ID       uint32
	Used     uint32 // end of the records
	Live     uint32 // records a reader will be handed
	LiveBody uint64 // their body bytes
	// Spans lists every record and padding stretch in order when the
	// records were read (no good footer, or Rescan); nil when the footer
	// was trusted. An index uses it to check its entries against the data.
	Spans []Span
}

// recoverSegment reads what Open needs about one segment file. A sealed
// segment costs a footer read. Any other one (the head when the broker
// died) is scanned with checksums: corrupt records in the middle are
// covered with padding, a torn tail is cut off, and the segment is sealed
// so the next Open takes the fast path. keep is false if nothing live is
// left (the file is then gone).
func (l *Log) recoverSegment(id uint32) (r Recovered, keep bool, err error) {
	r.ID = id
	path := l.path(id)
	fd, err := openFile(path, unix.O_RDWR)
	if err != nil {
		return r, false, err
	}
	defer unix.Close(fd)
	size, err := fileSize(fd)
	if err != nil {
		return r, false, err
	}
	if size >= DataStart+footerSize {
		var b [footerSize]byte
		if err := preadFull(fd, b[:], size-footerSize); err != nil {
			return r, false, err
		}
		if f, ferr := parseFooter(b[:], size); ferr == nil {
			r.Used, r.Live, r.LiveBody = f.used, f.pcount, f.pbody
			if f.pcount == 0 {
				return r, false, os.Remove(path)
			}
			return r, true, nil
		}
	}
	if size < DataStart+HeaderSize {
		l.logger().Warn("segment: removing segment too short to hold a record", "segment", id, "size", size)
		return r, false, os.Remove(path)
	}
	// Read with pread, not through a mapping: on tmpfs a read fault on a
	// hole allocates a page, and on a full file system that is SIGBUS.
	// Only the data is read; the holes past it are zeros.
	usable := min(size, maxSegmentSize) &^ (recordAlign - 1)
	limit := uint32(min(max(alignUp(dataEnd(fd, size)), DataStart+HeaderSize), usable))
	data := make([]byte, limit)
	if err := preadFull(fd, data, 0); err != nil {
		return r, false, err
	}
	if [4]byte(data[:4]) != fileMagic {
		l.logger().Warn("segment: bad file header; reading its records anyway", "segment", id)
	}
	res := scan(data, limit, true, true)
	l.report(id, res, limit)
	if res.live == 0 {
		return r, false, os.Remove(path)
	}
	if err := l.sealRecovered(fd, res); err != nil {
		// Degraded, not down: the records are kept and served, and the
		// next Open scans the segment again.
		l.logger().Warn("segment: cannot seal recovered segment (disk full?); serving it unsealed", "segment", id, "err", err)
	}
	r.Used, r.Live, r.LiveBody, r.Spans = res.end, res.live, res.lbody, res.spans
	return r, true, nil
}

// sealRecovered writes what recovery learnt into a scanned segment: the
// torn tail cut first (that frees space on a full disk), the gaps padded,
// the footer, and an fdatasync. If a write fails, the file is left without
// a footer: still good for a scan.
func (l *Log) sealRecovered(fd int, res scanResult) error {
	if err := unix.Ftruncate(fd, int64(res.end)); err != nil {
		return err
	}
	for _, g := range res.gaps {
		if err := writePadding(fd, g); err != nil {
			return err
		}
	}
	f := footer{used: res.end, count: res.count, pcount: res.pcount, pbody: res.pbody}
	var b [footerSize]byte
	f.put(b[:])
	if err := sysfile.PwriteAll(fd, b[:], int64(res.end)); err != nil {
		_ = unix.Ftruncate(fd, int64(res.end)) // no half footer
		return err
	}
	return sysfile.Datasync(fd)
}

func (l *Log) report(id uint32, res scanResult, limit uint32) {
	for _, g := range res.gaps {
		l.logger().Warn("segment: skipping corrupt record", "segment", id, "offset", g.off, "bytes", g.end-g.off)
	}
	if res.torn {
		l.logger().Warn("segment: cutting off torn tail", "segment", id, "offset", res.end, "bytes", limit-res.end)
	}
}

// writePadding covers g with one filler record through fd. Its payload is
// zeros, so the checksum is computed over zeros instead of a buffer.
func writePadding(fd int, g gap) error {
	n := int64(g.end - g.off)
	if n < HeaderSize {
		return fmt.Errorf("segment: gap of %d bytes at %d is too small to pad", n, g.off)
	}
	var h [HeaderSize]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(n-prefixSize))
	h[8] = recordVersion
	h[9] = flagPadding
	c := crc32.Update(0, sysfile.Castagnoli, h[0:4])
	c = crc32.Update(c, sysfile.Castagnoli, h[prefixSize:])
	for rest := n - HeaderSize; rest > 0; {
		k := min(rest, int64(sysfile.ZeroChunk))
		c = crc32.Update(c, sysfile.Castagnoli, sysfile.Zeros(int(k)))
		rest -= k
	}
	binary.LittleEndian.PutUint32(h[4:], c)
	if err := sysfile.PwriteAll(fd, h[:], int64(g.off)); err != nil {
		return err
	}
	return sysfile.ZeroFill(fd, int64(g.off)+HeaderSize, n-HeaderSize)
}

// Rescan checks every record of a segment against its checksum after a
// read found a bad one (media damage in a sealed segment whose footer was
// trusted). Unreadable stretches are covered with padding so that Next
// passes them from now on, and the result tells an index how many live
// records are really left. If the file cannot be repaired, the segment is
// cut short in memory at the first bad record instead.
func (l *Log) Rescan(id uint32) (Recovered, error) {
	s := l.find(id)
	if s == nil {
		return Recovered{}, ErrNoSegment
	}
	if s == l.head {
		// Read everything from the file, where the repairs will go.
		if err := l.w.skip(); err != nil {
			return Recovered{}, err
		}
	}
	data, err := l.view(s)
	if err != nil {
		return Recovered{}, err
	}
	res := scan(data, s.used, s.recovered, l.opt.Durable)
	l.report(id, res, s.used)
	if res.end < s.used {
		// Only damage can stop a scan of sealed data short: pad to the end.
		res.gaps = append(res.gaps, gap{res.end, s.used})
		res.spans = append(res.spans, Span{Off: res.end, End: s.used})
		res.end = s.used
	}
	if err := l.repair(s, res); err != nil {
		l.logger().Error("segment: cannot repair segment; dropping what follows the damage", "segment", id, "err", err)
		cut := res.gaps[0].off
		s.used = cut
		res.live, res.lbody = 0, 0
		var spans []Span
		for _, sp := range res.spans {
			if sp.End > cut {
				break
			}
			spans = append(spans, sp)
			if sp.Live {
				res.live++
				res.lbody += uint64(sp.Body)
			}
		}
		res.spans, res.end = spans, cut
	}
	return Recovered{ID: id, Used: res.end, Live: res.live, LiveBody: res.lbody, Spans: res.spans}, nil
}

// repair writes the padding (and, for a sealed segment, a footer with the
// new counts) through a descriptor: the mapping may be read-only, and it
// sees the writes since both share the page cache.
func (l *Log) repair(s *seg, res scanResult) error {
	if len(res.gaps) == 0 {
		return nil
	}
	pad := func(fd int) error {
		for _, g := range res.gaps {
			if err := writePadding(fd, g); err != nil {
				return err
			}
		}
		return nil
	}
	if s == l.head {
		if err := l.w.withFD(pad); err != nil {
			return err
		}
		s.count, s.pcount, s.pbody = res.count, res.pcount, res.pbody
		return nil
	}
	return withFile(l.path(s.id), unix.O_RDWR, func(fd int) error {
		if err := pad(fd); err != nil {
			return err
		}
		f := footer{used: s.used, count: res.count, pcount: res.pcount, pbody: res.pbody}
		var b [footerSize]byte
		f.put(b[:])
		return sysfile.PwriteAll(fd, b[:], int64(s.used))
	})
}
