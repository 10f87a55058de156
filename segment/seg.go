package segment

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/warrenmq/warren/segment/sysfile"
)

// seg is one segment file as the log tracks it.
type seg struct {
	id        uint32
	used      uint32 // end of the records (staged ones included, for the head)
	size      int64  // file length: the capacity while written, used+footer once sealed
	alloc     int64  // head: bytes preallocated so far
	data      []byte // read-only mapping, nil while unmapped
	recovered bool   // found by Open: its transient records are dead
	// fd is open for the head, and for every segment of a non-durable log,
	// whose files are unlinked: the descriptor is all that keeps them.
	fd int
	sf *syncFile // a durable head's fd, shared with the Syncer

	count, pcount uint32 // for the footer
	pbody         uint64
}

// Disk blocks are reserved ahead of the writer, so a segment costs disk as
// it fills, not all at once. The reservation starts at firstAlloc and
// doubles with what the segment already holds, up to allocChunk a step: a
// queue holding one small message costs tens of KiB, not a megabyte, and a
// busy one still reserves a megabyte per fallocate.
const (
	firstAlloc = 64 << 10
	allocChunk = 1 << 20
)

// allocStep is how much to reserve beyond a segment that has alloc bytes.
func allocStep(alloc int64) int64 { return min(max(alloc, firstAlloc), allocChunk) }

// create starts a new segment of the given capacity and makes it the head.
func (l *Log) create(capacity int64) (*seg, error) {
	if err := l.makeDir(); err != nil {
		return nil, err
	}
	id := l.nextID
	var fd int
	var err error
	for range 16 { // skip ids a stray file already took
		fd, err = openFile(l.path(id), unix.O_RDWR|unix.O_CREAT|unix.O_EXCL)
		if err != unix.EEXIST {
			break
		}
		id++
	}
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*seg, error) {
		_ = unix.Close(fd)
		_ = os.Remove(l.path(id))
		return nil, err
	}
	if !l.opt.Durable {
		if err := unix.Unlink(l.path(id)); err != nil {
			return fail(err)
		}
	}
	if err := unix.Ftruncate(fd, capacity); err != nil {
		return fail(err)
	}
	alloc := min(capacity, firstAlloc)
	if err := preallocate(fd, 0, alloc); err != nil {
		return fail(err)
	}
	var hdr [DataStart]byte
	putFileHeader(hdr[:])
	if err := sysfile.PwriteAll(fd, hdr[:], 0); err != nil {
		return fail(err)
	}
	dfd := -1
	if l.opt.Durable && l.opt.Syncer != nil {
		if dfd, err = openFile(l.dir, unix.O_RDONLY|unix.O_DIRECTORY); err != nil {
			return fail(err)
		}
	}
	s := &seg{id: id, used: DataStart, size: capacity, alloc: alloc, fd: fd}
	if l.opt.Durable {
		s.sf = newSyncFile(fd, false)
		s.sf.w.Store(&l.w)
		if dfd >= 0 {
			// The new name must reach disk before a record in it counts as
			// synced; the record's generation is at least this one. The
			// Syncer's reference keeps the directory open until then; the
			// log keeps none, so an idle queue holds no descriptor.
			dsf := newSyncFile(dfd, true)
			l.opt.Syncer.mark(dsf)
			dsf.release()
		}
	}
	l.w.attach(fd, s.sf, DataStart)
	l.nextID = id + 1
	l.segs = append(l.segs, s)
	l.head = s
	return s, nil
}

// reserve makes sure [0, end) of the head has disk blocks behind it, so
// the disk filling up shows as an error here, early, and the file does not
// fragment.
func (l *Log) reserve(h *seg, end int64) error {
	if end <= h.alloc {
		return nil
	}
	step := allocStep(h.alloc)
	to := min(h.size, max(end, h.alloc+step))
	to = min(h.size, (to+firstAlloc-1)/firstAlloc*firstAlloc)
	if err := preallocate(h.fd, h.alloc, to-h.alloc); err != nil {
		return err
	}
	h.alloc = to
	return nil
}

// seal ends the head: staged records written, footer after the last one,
// file cut to end with it. The footer is what lets Open skip this
// segment's records. With sync (a clean Close) the file is fdatasynced;
// otherwise the Syncer covers its persistent records as usual and the
// footer reaches disk with them or with normal writeback: a footer that
// did not make it only costs a scan.
func (l *Log) seal(h *seg, sync bool) error {
	if h.sf != nil {
		// Write what is staged while the Syncer can still see it: a
		// failure must reach the file's error before a round could sync
		// the file without these records and call their generation done.
		if err := l.w.flush(); err != nil {
			h.sf.setErr(err)
		}
		h.sf.w.Store(nil)
	}
	err := l.w.detach()
	l.unmapSeg(h) // never shrink a mapped file
	l.head = nil
	var b [footerSize]byte
	f := footer{used: h.used, count: h.count, pcount: h.pcount, pbody: h.pbody}
	f.put(b[:])
	if err == nil {
		err = sysfile.PwriteAll(h.fd, b[:], int64(h.used))
	}
	if err == nil {
		h.size = int64(h.used) + footerSize
		if terr := unix.Ftruncate(h.fd, h.size); terr != nil {
			l.logger().Warn("segment: cannot trim sealed segment; the next open will scan it", "segment", h.id, "err", terr)
		}
	}
	if err == nil && sync && l.opt.Durable {
		err = sysfile.Datasync(h.fd)
	}
	if l.opt.Durable {
		h.closeFile() // only non-durable logs keep a sealed segment's fd
	}
	return err
}

func (s *seg) closeFile() {
	switch {
	case s.sf != nil:
		s.sf.w.Store(nil)
		s.sf.release() // the Syncer may still hold it; the last one closes
		s.sf = nil
	case s.fd >= 0:
		_ = unix.Close(s.fd)
	}
	s.fd = -1
}

// bytesAt returns the segment's bytes from off to the end of its records.
// For the head, records still staged come from the staging buffer.
func (l *Log) bytesAt(s *seg, off uint32) ([]byte, error) {
	if s == l.head {
		w := &l.w
		if int64(off) >= w.base {
			return w.b[int64(off)-w.base:], nil
		}
		data, err := l.view(s)
		if err != nil {
			return nil, err
		}
		return data[off:w.base], nil
	}
	data, err := l.view(s)
	if err != nil {
		return nil, err
	}
	return data[off:s.used], nil
}

// view returns the segment's read-only mapping, mapping it if needed. The
// head is mapped at its full capacity (it grows under the mapping) and
// outside the LRU; other segments count against maxReadMaps.
func (l *Log) view(s *seg) ([]byte, error) {
	if s.data != nil {
		if s != l.head {
			l.touch(s)
		}
		return s.data, nil
	}
	if s != l.head && len(l.maps) >= maxReadMaps {
		l.unmapSeg(l.maps[0])
	}
	fd, n := s.fd, int64(s.used)
	if s == l.head {
		n = s.size
	}
	if fd < 0 {
		var err error
		if fd, err = openFile(l.path(s.id), unix.O_RDONLY); err != nil {
			return nil, err
		}
		defer unix.Close(fd)
	}
	data, err := mapFile(fd, n, false)
	if err != nil {
		return nil, err
	}
	adviseRead(data)
	s.data = data
	if s != l.head {
		l.maps = append(l.maps, s)
	}
	return data, nil
}

// touch moves s to the most recently used end of the read mappings.
func (l *Log) touch(s *seg) {
	n := len(l.maps)
	if n == 0 || l.maps[n-1] == s {
		return
	}
	for i, m := range l.maps {
		if m == s {
			copy(l.maps[i:], l.maps[i+1:])
			l.maps[n-1] = s
			return
		}
	}
}

func (l *Log) unmapSeg(s *seg) {
	if s.data == nil {
		return
	}
	_ = unmap(s.data)
	s.data = nil
	for i, m := range l.maps {
		if m == s {
			l.maps = append(l.maps[:i], l.maps[i+1:]...)
			break
		}
	}
}
