package segment

import (
	"fmt"
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
	dropped   uint32 // pages of data below this were released (dropBehind)
	recovered bool   // found by Open: its transient records are dead
	// A segment holds no descriptor of its own: the head's is in the log's
	// wbuf (under the FileCache), and a read maps the file and closes it.

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
	if err := unix.Ftruncate(fd, capacity); err != nil {
		return fail(err)
	}
	alloc := min(capacity, firstAlloc)
	if err := l.preallocate(fd, 0, alloc); err != nil {
		return fail(err)
	}
	var hdr [DataStart]byte
	putFileHeader(hdr[:])
	if err := sysfile.PwriteAll(fd, hdr[:], 0); err != nil {
		return fail(err)
	}
	if l.opt.Durable && l.opt.Syncer != nil {
		dfd, err := openFile(l.dir, unix.O_RDONLY|unix.O_DIRECTORY)
		if err != nil {
			return fail(err)
		}
		// The new name must reach disk before a record in it counts as
		// synced; the record's generation is at least this one. The
		// Syncer's reference keeps the directory open until then; the
		// log keeps none, so an idle queue holds no descriptor.
		dsf := newSyncFile(dfd, true)
		dsf.log = l.id
		l.opt.Syncer.mark(dsf)
		dsf.release()
	}
	s := &seg{id: id, used: DataStart, size: capacity, alloc: alloc}
	l.w.attach(l.path(id), fd, DataStart)
	l.nextID = id + 1
	l.segs = append(l.segs, s)
	l.head = s
	return s, nil
}

// preallocate reserves [off, off+n) of a new segment's file. A log whose
// records are fdatasynced (SyncData) writes zeros there instead of
// fallocating: fallocate leaves unwritten extents, and an fdatasync after
// a write into one must also write the extent's conversion (metadata) to
// disk, which on this ext4 doubled its time (8 KiB write + fdatasync:
// 200-240 us into fallocated blocks, 120 us into zeroed ones). PostgreSQL
// zero-fills new WAL files for the same reason (wal_init_zero). Both read
// as zeros, so recovery sees the same file either way. The range is always
// past the end of the records (used <= alloc), so no record is overwritten,
// and it is fallocated first, so a full disk refuses it whole
// (preallocateWritten).
func (l *Log) preallocate(fd int, off, n int64) error {
	if l.opt.Durable && l.opt.Syncer != nil && l.opt.Syncer.policy == SyncData {
		return preallocateWritten(fd, off, n)
	}
	return preallocate(fd, off, n)
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
	if err := l.w.withFD(func(fd int) error { return l.preallocate(fd, h.alloc, to-h.alloc) }); err != nil {
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
	l.unmapSeg(h) // never shrink a mapped file
	l.head = nil
	var b [footerSize]byte
	f := footer{used: h.used, count: h.count, pcount: h.pcount, pbody: h.pbody}
	f.put(b[:])
	// Staged records are written while the Syncer can still see the file:
	// a failure must reach the file's error before a round could sync it
	// without these records and call their generation done.
	return l.w.finish(func(fd int) error {
		if err := sysfile.PwriteAll(fd, b[:], int64(h.used)); err != nil {
			return err
		}
		h.size = int64(h.used) + footerSize
		if err := unix.Ftruncate(fd, h.size); err != nil {
			l.logger().Warn("segment: cannot trim sealed segment; the next open will scan it", "segment", h.id, "err", err)
		}
		if sync && l.opt.Durable {
			return sysfile.Datasync(fd)
		}
		return nil
	})
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
//
// Every mapping counts against the broker-wide MapBudget (mapbudget.go):
// a new one may make cold logs let go of theirs, and one the kernel
// refuses (vm.max_map_count reached) fails this read with ErrMapLimit,
// after one more round of evictions; the read can be tried again later.
func (l *Log) view(s *seg) ([]byte, error) {
	if s.data != nil {
		if s != l.head {
			l.touch(s)
		}
		l.maps.Touch()
		return s.data, nil
	}
	if s != l.head && len(l.readMaps) >= maxReadMaps {
		l.unmapSeg(l.readMaps[0])
	}
	var data []byte
	mapIt := func(fd int) (err error) {
		n := int64(s.used)
		if s == l.head {
			n = s.size
		}
		data, err = mapFile(fd, n, false)
		return err
	}
	mapSeg := func() error {
		if s == l.head {
			return l.w.withFD(mapIt)
		}
		return withFile(l.path(s.id), unix.O_RDONLY, mapIt)
	}
	l.maps.Reserve()
	err := mapSeg()
	if err == unix.ENOMEM && l.maps.Retry() {
		err = mapSeg()
	}
	if err == unix.ENOMEM {
		l.maps.Refused()
		return nil, fmt.Errorf("segment %d of %s: %w (%w)", s.id, l.dir, ErrMapLimit, err)
	}
	if err != nil {
		return nil, err
	}
	l.maps.Mapped()
	adviseRead(data)
	s.data = data
	if s != l.head {
		l.readMaps = append(l.readMaps, s)
	}
	return data, nil
}

// touch moves s to the most recently used end of the read mappings.
func (l *Log) touch(s *seg) {
	n := len(l.readMaps)
	if n == 0 || l.readMaps[n-1] == s {
		return
	}
	for i, m := range l.readMaps {
		if m == s {
			copy(l.readMaps[i:], l.readMaps[i+1:])
			l.readMaps[n-1] = s
			return
		}
	}
}

func (l *Log) unmapSeg(s *seg) {
	if s.data == nil {
		return
	}
	_ = unmap(s.data)
	s.data, s.dropped = nil, 0
	l.maps.Unmapped()
	for i, m := range l.readMaps {
		if m == s {
			l.readMaps = append(l.readMaps[:i], l.readMaps[i+1:]...)
			break
		}
	}
}

// ReleaseMaps unmaps every segment of the log (MapHolder): the MapBudget
// asks a cold log to, with its Owner held. Reads map them again.
func (l *Log) ReleaseMaps() {
	for _, s := range l.segs {
		l.unmapSeg(s)
	}
}
