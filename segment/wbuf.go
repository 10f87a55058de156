package segment

import (
	"sync"

	"github.com/warrenmq/warren/segment/sysfile"
)

// wbuf stages appends to the head segment and writes them with pwrite.
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
// mutex orders the queue's appends against that flush; it is uncontended
// except for the moment a round runs.
type wbuf struct {
	mu    sync.Mutex
	b     []byte    // staged records; b[0] is at file offset base
	base  int64     // file offset of b[0]
	done  int       // bytes of b already written to the file
	fd    int       // the head's descriptor, -1 when there is no head
	owner *syncFile // the durable head's syncFile, for the Syncer's check
	err   error     // first write error: the log refuses appends after it
}

const (
	minWbuf = 4 << 10
	// maxWbuf bounds the buffer a busy queue keeps: 32 KiB is one pwrite
	// per ~250 records of 100 B, and 10,000 busy queues hold 320 MiB.
	maxWbuf = 32 << 10
)

// attach points the buffer at a new head whose records start at off.
func (w *wbuf) attach(fd int, owner *syncFile, off int64) {
	w.mu.Lock()
	w.fd, w.owner, w.base, w.b, w.done = fd, owner, off, w.b[:0], 0
	w.mu.Unlock()
}

// detach writes out what is staged and lets go of the head.
func (w *wbuf) detach() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.flushLocked()
	w.fd, w.owner, w.b, w.done = -1, nil, w.b[:0], 0
	return err
}

// flush writes out what is staged; the staged bytes stay readable.
func (w *wbuf) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

// flushFor is the Syncer's flush: it does nothing if f's segment is no
// longer the head (sealing flushed it then).
func (w *wbuf) flushFor(f *syncFile) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.owner != f {
		return nil
	}
	return w.flushLocked()
}

func (w *wbuf) flushLocked() error {
	if w.err != nil {
		return w.err
	}
	if w.done < len(w.b) && w.fd >= 0 {
		if err := sysfile.PwriteAll(w.fd, w.b[w.done:], w.base+int64(w.done)); err != nil {
			w.err = err
			return err
		}
	}
	w.done = len(w.b)
	return nil
}

// put stages r (n bytes encoded), making room first (a write, then a
// fresh buffer) if needed. Encoding happens under the lock, so a Syncer
// flush never writes half a record. It returns false for n > maxWbuf: the
// caller writes such a record straight to the file.
func (w *wbuf) put(r *Record, n int) (bool, error) {
	if n > maxWbuf {
		return false, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.b)+n > cap(w.b) {
		if err := w.flushLocked(); err != nil {
			return false, err
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
	encode(w.b[k:k+n], r)
	return true, nil
}

// skip accounts for n bytes written straight to the file after the buffer.
func (w *wbuf) skip(n int64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.flushLocked(); err != nil {
		return err
	}
	w.base += int64(len(w.b)) + n
	w.b, w.done = w.b[:0], 0
	return nil
}
