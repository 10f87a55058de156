package broker

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"

	"github.com/warrenmq/warren/frame"
)

// dedupLog keeps a durable exchange's deduplication cache across restarts
// (x-cache-persistence = disk): every value the cache takes in is appended
// as (hash, expiry), 16 bytes, and replayed in order at open, which
// rebuilds the ring exactly, evictions included. When the log holds twice
// the cache's size it is rewritten with the live entries, oldest first, so
// its size stays bounded by the cache's. The appends are not fsynced (a
// deduplication cache is best-effort, as the plugin's): they survive a
// process crash, not necessarily a power loss.
type dedupLog struct {
	path string
	f    *os.File
	n    int // entries in the file
	buf  [16]byte
	err  error // the first write error; the cache then stays in memory
}

func dedupLogPath(v *VHost, exchange string) string {
	return filepath.Join(v.dir, "dedup", nameDir(exchange))
}

// openDedupLog replays path into c and opens it for appending.
func openDedupLog(path string, c *dedupCache) (*dedupLog, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	now := nowMs()
	c.mu.Lock()
	for len(data) >= 16 { // a torn last entry is dropped
		key := binary.LittleEndian.Uint64(data)
		exp := int64(binary.LittleEndian.Uint64(data[8:]))
		data = data[16:]
		if exp != 0 && exp <= now {
			continue
		}
		if i, ok := c.index[key]; ok {
			c.removeLocked(i)
		}
		c.insertLocked(key, exp)
	}
	l := &dedupLog{path: path}
	err = l.rewriteLocked(c)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return l, nil
}

// record appends one entry. REQUIRES: c.mu held.
func (l *dedupLog) record(c *dedupCache, key uint64, exp int64) {
	if l.err != nil || l.f == nil {
		return
	}
	if l.n >= 2*len(c.ring)+64 {
		if err := l.rewriteLocked(c); err != nil {
			l.fail(err)
		}
		return // the rewrite holds the new entry
	}
	binary.LittleEndian.PutUint64(l.buf[:], key)
	binary.LittleEndian.PutUint64(l.buf[8:], uint64(exp))
	if _, err := l.f.Write(l.buf[:]); err != nil {
		l.fail(err)
		return
	}
	l.n++
}

// rewriteLocked replaces the file with c's live entries, oldest first.
// REQUIRES: c.mu held.
func (l *dedupLog) rewriteLocked(c *dedupCache) error {
	var out []byte
	n := 0
	for k := range len(c.ring) {
		s := c.ring[(c.next+k)%len(c.ring)]
		if !s.live {
			continue
		}
		out = binary.LittleEndian.AppendUint64(out, s.key)
		out = binary.LittleEndian.AppendUint64(out, uint64(s.expires))
		n++
	}
	tmp := l.path + ".tmp"
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, l.path); err != nil {
		return err
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if l.f != nil {
		l.f.Close()
	}
	l.f, l.n = f, n
	return nil
}

func (l *dedupLog) fail(err error) {
	l.err = err
	logErr("deduplication cache: cannot write its file; it stays in memory only", err, "file", l.path)
}

// close closes the file; destroy also deletes it (exchange.delete).
func (l *dedupLog) close(destroy bool) error {
	var err error
	if l.f != nil {
		err = l.f.Close()
		l.f = nil
	}
	if destroy {
		if rerr := os.Remove(l.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	return err
}

// queueDedupFromArgs is dedupFromArgs for a queue, whose duplicates are the
// messages it holds: its cache has nothing of its own to keep on disk.
func queueDedupFromArgs(args frame.Table) (*dedupCache, error) {
	c, err := dedupFromArgs(args)
	if err == nil && c != nil && c.onDisk {
		return nil, frame.Errorf(frame.PreconditionFailed, "invalid arg 'x-cache-persistence': 'disk' applies to exchanges; a queue's cache is the messages it holds")
	}
	return c, err
}
