package segment

import (
	"errors"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/warrenmq/warren/segment/sysfile"
)

// wbuf stages appends to the head segment and writes them with pwrite. It
// also owns the head's descriptor, which the FileCache may close behind the
// log's back (see filecache.go): every use of the descriptor is under mu,
// and reopens the file if the cache closed it.
//
// Why not store through a writable mapping, as LavinMQ does: on the VMs we
// run on (Firecracker with PVM) every first touch of a page from user space
// costs 15-100 µs, so writing 100-byte records through a mapping measured
// 500-1400 ns per record, against ~30 ns staged and written 32-64 KiB at a
// time. Mapping the head with huge pages fixes the faults but makes every
// fdatasync write a whole 2 MiB folio. Buffered writes also leave large
// folios in the page cache, which makes the read mappings cheap (~6 ns per
// record against ~100). Reads still come from mappings; only the write
// path goes through the file.
//
// The Syncer flushes the buffer before each fdatasync of the file, so a
// persistent record is on disk by the time its generation is done. The
// mutex orders the queue's appends against that flush and against an
// eviction; it is uncontended except for the moment a round runs.
type wbuf struct {
	mu   sync.Mutex
	b    []byte // staged records; b[0] is at file offset base
	base int64  // file offset of b[0]
	done int    // bytes of b already written to the file
	// fd is the head's descriptor: -1 when there is no head (path "") or
	// while the cache has it closed (path set).
	fd      int
	path    string
	durable bool
	owner   *syncFile // a durable head's fd, shared with the Syncer; nil while closed
	// shared is owner, readable without mu: the cache's eviction scan
	// leaves a head alone while the Syncer holds its descriptor, since
	// closing it would free nothing until the round.
	shared atomic.Pointer[syncFile]
	// closedOwner is the last owner the cache closed with its error
	// unknown yet: a failed fdatasync after the eviction still fails the
	// head.
	closedOwner *syncFile
	err         error // first write error: the head is retired after it
	// bad: err is set or the head's fdatasync failed. An atomic, so that
	// Append checks it without the lock.
	bad atomic.Bool

	logID uint64 // the Log's id, for the Syncer's failure records

	// A non-durable log's staged records that its reader is done with
	// need never reach the file (discard.go). discardTo: the head's file
	// offset below which that holds; hot: the bytes of b beyond maxWbuf
	// taken from hotBudget.
	discardTo atomic.Int64
	hot       int

	files *FileCache
	ent   cacheEntry
	used  atomic.Bool // appended to since the cache's scan last passed
	vs    [maxVictims]victim
	nv    int
}

const (
	minWbuf = 4 << 10
	// maxWbuf bounds the buffer a busy queue keeps: 32 KiB is one pwrite
	// per ~250 records of 100 B, and 10,000 busy queues hold 320 MiB.
	maxWbuf = 32 << 10
)

var errNoHead = errors.New("segment: no head segment")

func (w *wbuf) init(files *FileCache, durable bool) {
	w.fd, w.files, w.durable = -1, files, durable
	w.ent.w = w
}

// unlock releases mu, then closes the heads the cache picked while a file
// was opened under it (never under mu: see the lock order in filecache.go).
func (w *wbuf) unlock() {
	if w.nv == 0 {
		w.mu.Unlock()
		return
	}
	vs, nv := w.vs, w.nv
	w.vs, w.nv = [maxVictims]victim{}, 0
	w.mu.Unlock()
	w.files.closeVictims(&vs, nv)
}

// attach makes fd (a new file at path) the head; its records start at off.
// A fresh head starts without an error: a failed one was retired.
func (w *wbuf) attach(path string, fd int, off int64) {
	w.mu.Lock()
	w.path, w.fd, w.base, w.b, w.done, w.err = path, fd, off, w.b[:0], 0, nil
	w.discardTo.Store(off) // nothing before the first record to wait for
	w.closedOwner = nil
	w.bad.Store(false)
	w.newOwner()
	w.opened()
	w.unlock()
}

// opened registers the open head with the cache. REQUIRES: mu held.
func (w *wbuf) opened() {
	w.vs, w.nv = w.files.add(&w.ent)
}

// ensureLocked reopens the head if the cache closed it. REQUIRES: mu held.
func (w *wbuf) ensureLocked() error {
	if w.fd >= 0 {
		return nil
	}
	if w.path == "" {
		return errNoHead
	}
	fd, err := openFile(w.path, unix.O_RDWR)
	if err != nil {
		return err
	}
	w.fd = fd
	w.newOwner()
	w.opened()
	return nil
}

// newOwner shares a durable head's descriptor with the Syncer.
// REQUIRES: mu held.
func (w *wbuf) newOwner() {
	if w.durable {
		w.owner = newSyncFile(w.fd, false)
		w.owner.log = w.logID
		w.owner.head = w
		w.owner.w.Store(w)
		w.shared.Store(w.owner)
	}
}

// syncing reports that the Syncer holds the head's descriptor for a round
// to come (it took a reference when the head was marked dirty).
func (w *wbuf) syncing() bool {
	o := w.shared.Load()
	return o != nil && o.refs.Load() > 1
}

// ownerFailed is the Syncer reporting that f's write or fdatasync failed.
func (w *wbuf) ownerFailed(f *syncFile) {
	w.mu.Lock()
	if f == w.owner || f == w.closedOwner {
		w.bad.Store(true)
	}
	w.mu.Unlock()
}

// setErr records a failed write. REQUIRES: mu held.
func (w *wbuf) setErr(err error) {
	if w.err == nil {
		w.err = err
	}
	if w.owner != nil {
		w.owner.setErr(err)
	}
	w.bad.Store(true)
}

// closeLocked closes the head's descriptor; a durable one lives on in the
// Syncer until the round that holds it is done. REQUIRES: mu held.
func (w *wbuf) closeLocked() {
	if o := w.owner; o != nil {
		o.w.Store(nil)
		if w.closedOwner == nil || w.closedOwner.Err() == nil {
			w.closedOwner = o
		}
		o.release()
		w.owner = nil
		w.shared.Store(nil)
	} else if w.fd >= 0 {
		_ = unix.Close(w.fd)
	}
	w.fd = -1
}

// evict is the cache closing the head; gen is the entry's generation when
// it was picked. It reports whether a descriptor was closed.
func (w *wbuf) evict(gen uint64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fd < 0 || w.ent.gen != gen {
		return false // closed meanwhile, or reopened and re-added since
	}
	_ = w.flushLocked() // an error stays in w.err and retires the head
	w.closeLocked()
	return true
}

// failed is the error that retires the head: a write that failed, or an
// fdatasync that did (a failed fdatasync may have lost written pages, and
// the kernel reports it only once).
func (w *wbuf) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.err != nil:
		return w.err
	case w.owner != nil && w.owner.Err() != nil:
		return w.owner.Err()
	case w.closedOwner != nil && w.closedOwner.Err() != nil:
		return w.closedOwner.Err()
	}
	return nil
}

// drop lets go of the head without writing what is staged (the head is
// deleted or retired). It returns the end of what reached the file.
func (w *wbuf) drop() (written int64) {
	w.mu.Lock()
	defer w.unlock()
	written = w.base + int64(w.done)
	w.closeLocked()
	w.files.remove(&w.ent)
	w.path, w.b, w.done, w.closedOwner = "", w.b[:0], 0, nil
	return written
}

// finish writes out what is staged, runs fn on the descriptor (the
// footer, the trim) unless that failed, and lets go of the head.
func (w *wbuf) finish(fn func(fd int) error) error {
	w.mu.Lock()
	defer w.unlock()
	err := w.ensureLocked()
	if err == nil {
		err = w.flushLocked()
	}
	if err != nil && w.owner != nil {
		// Before the Syncer can see the file without these records and
		// call their generation done.
		w.owner.setErr(err)
		w.bad.Store(true)
	}
	if err == nil {
		err = fn(w.fd)
	}
	w.closeLocked()
	w.files.remove(&w.ent)
	w.path, w.b, w.done, w.closedOwner = "", w.b[:0], 0, nil
	return err
}

// withFD runs fn on the head's descriptor, reopening the file if needed.
// What is staged is not written first.
func (w *wbuf) withFD(fn func(fd int) error) error {
	w.mu.Lock()
	defer w.unlock()
	if err := w.ensureLocked(); err != nil {
		return err
	}
	return fn(w.fd)
}

// flush writes out what is staged; the staged bytes stay readable.
func (w *wbuf) flush() error {
	w.mu.Lock()
	defer w.unlock()
	return w.flushLocked()
}

// flushFor is the Syncer's flush: it does nothing if f is no longer the
// head's descriptor (sealing or an eviction flushed it then).
func (w *wbuf) flushFor(f *syncFile) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.owner != f {
		return nil
	}
	return w.flushLocked()
}

// flushLocked writes what is staged. Staged bytes imply an open
// descriptor: put reopens before staging, and an eviction flushes first.
func (w *wbuf) flushLocked() error {
	if w.err != nil {
		return w.err
	}
	if from := max(w.done, w.discarded()); from < len(w.b) {
		if err := w.ensureLocked(); err != nil {
			return err
		}
		if err := sysfile.PwriteAll(w.fd, w.b[from:], w.base+int64(from)); err != nil {
			w.setErr(err)
			return err
		}
	}
	w.done = len(w.b)
	return nil
}

// put stages r (n bytes encoded), making room first (a write, then a
// fresh buffer) if needed. Encoding happens under the lock, so a Syncer
// flush never writes half a record. With sy (a persistent record of a
// durable log) it marks the head dirty and returns the generation, under
// the lock, so the descriptor cannot be closed in between. It returns
// false for n > maxWbuf: the caller uses putDirect for such a record.
func (w *wbuf) put(r *Record, n int, sy *Syncer) (staged bool, gen uint64, err error) {
	if n > maxWbuf {
		return false, 0, nil
	}
	w.mu.Lock()
	defer w.unlock()
	if !w.used.Load() {
		w.used.Store(true)
	}
	if err := w.ensureLocked(); err != nil {
		return false, 0, err
	}
	if len(w.b)+n > cap(w.b) && !w.keepUnread(n) {
		if err := w.flushLocked(); err != nil {
			return false, 0, err
		}
		full := len(w.b) > 0
		w.base += int64(len(w.b))
		w.b, w.done = w.b[:0], 0
		if c := cap(w.b); c < maxWbuf && (full || c < n) {
			// Grow only for a queue that fills its buffer: an idle one
			// keeps 4 KiB.
			w.b = make([]byte, 0, min(max(2*c, minWbuf, n), maxWbuf))
		}
	}
	k := len(w.b)
	w.b = w.b[:k+n]
	if w.durable {
		encode(w.b[k:k+n], r)
	} else {
		encodeUnsummed(w.b[k:k+n], r)
	}
	if sy != nil {
		gen = sy.mark(w.owner)
	}
	return true, gen, nil
}

// putDirect writes a record too big for the buffer straight to the file
// after what is staged.
func (w *wbuf) putDirect(r *Record, n int64, sy *Syncer) (gen uint64, err error) {
	w.mu.Lock()
	defer w.unlock()
	w.used.Store(true)
	if err := w.flushLocked(); err != nil {
		return 0, err
	}
	if err := w.ensureLocked(); err != nil {
		return 0, err
	}
	off := w.base + int64(len(w.b))
	if err := writeRecord(w.fd, off, r, n, w.durable); err != nil {
		w.setErr(err)
		return 0, err
	}
	w.base = off + n
	w.b, w.done = w.b[:0], 0
	if sy != nil {
		gen = sy.mark(w.owner)
	}
	return gen, nil
}

// skip writes out what is staged and starts the buffer afresh at the end
// of the file's records (Rescan reads the head from the file).
func (w *wbuf) skip() error {
	w.mu.Lock()
	defer w.unlock()
	if err := w.flushLocked(); err != nil {
		return err
	}
	w.base += int64(len(w.b))
	w.b, w.done = w.b[:0], 0
	return nil
}
