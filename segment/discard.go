package segment

import "sync/atomic"

// Staged records a non-durable log's reader is done with.
//
// A non-durable log is never recovered (Open empties it), so a record
// that was delivered and acknowledged while still in the staging buffer
// has no reader left: writing it to the file only cost a pwrite, page
// cache pages and, later, page faults. Issue 19's profile of a 1 KiB
// queue whose consumer fell briefly behind had the segment's pwrite at
// 24% and the record's CRC at 8.5%. So the queue tells the log how far
// its done records reach (Discard); a buffer that fills is cut there
// instead of written, and what is still unread moves to its front. The
// file is left with zeros (its preallocation) where the dropped records
// were: nothing reads there, since only done records are dropped and
// never past the queue's read cursor. A non-durable log's records have no
// checksum (see decodeCRC).
//
// A reader that lags by more than half the buffer would make every fill a
// write; the buffer may then grow up to maxHotWbuf, taking the bytes over
// maxWbuf from hotBudget, which all logs share, so that 10,000 busy queues
// still hold at most maxHotBytes more than before. A bigger buffer goes
// back when its log closes.
const (
	maxHotWbuf  = 256 << 10
	maxHotBytes = 8 << 20
)

var hotBudget atomic.Int64

// DiscardFrom is where Discard could start dropping: the head position of
// the first staged byte not yet dropped. ok is false for a durable log
// (its records are kept for recovery) and a log without a head.
func (l *Log) DiscardFrom() (p Pos, ok bool) {
	if l.opt.Durable || l.head == nil {
		return p, false
	}
	w := &l.w
	return Pos{Seg: l.head.id, Off: uint32(max(w.discardTo.Load(), w.base))}, true
}

// Discard says that every record of the head before p is done and will
// not be read again, so it need not reach the file. A non-durable log
// only; others ignore it.
func (l *Log) Discard(p Pos) {
	if l.opt.Durable || l.head == nil || p.Seg != l.head.id {
		return
	}
	if int64(p.Off) > l.w.discardTo.Load() {
		l.w.discardTo.Store(int64(p.Off))
	}
}

// discarded is how many bytes at the front of b were dropped by Discard.
// REQUIRES: mu held, or the queue's side (which alone moves base and b).
func (w *wbuf) discarded() int {
	if w.durable {
		return 0
	}
	d := w.discardTo.Load() - w.base
	if d <= 0 {
		return 0
	}
	return int(min(d, int64(len(w.b))))
}

// keepUnread makes room for n more bytes without writing anything while
// the reader is inside the buffer (done with everything before it): what
// it is done with is dropped and the rest moves to the front, or to a
// buffer twice the size if it would fill more than half of this one. It
// reports whether it made room. REQUIRES: mu held.
func (w *wbuf) keepUnread(n int) bool {
	if w.durable || w.discardTo.Load() < w.base {
		return false
	}
	keep := w.discarded()
	tail := len(w.b) - keep
	if c := cap(w.b); keep > 0 && tail+n <= c/2 {
		w.dropFront(keep, w.b)
		return true
	}
	c := cap(w.b)
	nc := min(2*c, maxHotWbuf)
	if nc <= c || tail+n > nc {
		return false
	}
	if delta := max(nc-maxWbuf, 0) - w.hot; delta > 0 {
		if hotBudget.Add(int64(delta)) > maxHotBytes {
			hotBudget.Add(-int64(delta))
			return false
		}
		w.hot += delta
	}
	w.dropFront(keep, make([]byte, 0, nc))
	return true
}

// dropFront forgets b's first keep bytes (never written, or written
// already) and moves the rest to the start of dst (b itself, or a bigger
// buffer). REQUIRES: mu held.
func (w *wbuf) dropFront(keep int, dst []byte) {
	t := copy(dst[:cap(dst)], w.b[keep:])
	w.b = dst[:t]
	w.base += int64(keep)
	w.done = max(w.done-keep, 0)
}

// releaseHot gives a buffer grown past maxWbuf back, with its budget, once
// the log has closed. (It stays with the log from head to head: a queue
// that keeps draining would otherwise grow one for every segment.)
func (w *wbuf) releaseHot() {
	w.mu.Lock()
	if w.hot > 0 {
		hotBudget.Add(-int64(w.hot))
		w.hot = 0
		w.b = nil
	}
	w.mu.Unlock()
}
