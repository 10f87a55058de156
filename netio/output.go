package netio

import (
	"slices"
	"sync/atomic"
)

// outputBudget is how many bytes may wait to be written to one connection
// (our buffer plus gnet's) before consumers on it stop getting deliveries.
// It bounds memory per slow consumer; acks and the drained socket restore it.
const outputBudget = 1 << 20

// Many connections behind at once share totalOutputBudget instead: 32
// consumers each holding a full outputBudget (plus the spare buffer and
// append's growth) took the broker to 110-120 MB RSS in the 32p/32c case
// of issue 19. A connection counts as busy while it has busyOutput bytes
// or more waiting; each busy connection may then hold
// totalOutputBudget / busy, never less than minOutputBudget (a few
// milliseconds of socket at full speed, so throughput does not suffer).
const (
	totalOutputBudget = 2 << 20
	minOutputBudget   = 64 << 10
	busyOutput        = 32 << 10
)

// busyConns counts the connections with busyOutput bytes or more waiting.
var busyConns atomic.Int32

// connOutputBudget is the budget of one connection now.
func connOutputBudget() int64 {
	n := int64(busyConns.Load())
	if !budgetShared() {
		return outputBudget
	}
	return max(totalOutputBudget/n, minOutputBudget)
}

// budgetShared reports whether so many connections are busy that they
// share totalOutputBudget; until then each has a full outputBudget, and
// keeps a spare output buffer of its own (ReturnOutput).
func budgetShared() bool { return int64(busyConns.Load())*outputBudget > totalOutputBudget }

// maxKeptBuffer is the largest output buffer kept for reuse (append grows a
// buffer past the budget by up to 2x), three budgets: 3 MiB alone, less
// while many connections share totalOutputBudget. Reallocating multi-MB
// buffers per flush cost a fifth of the 1 KiB throughput, so written
// buffers go back to outPool (outpool.go) after each flush, and the pool
// lets go of them once it goes unused.
func maxKeptBuffer() int { return 3 * int(connOutputBudget()) }

// output is a connection's pending bytes, written by its own loop and by
// other loops delivering to it.
type output struct {
	buf       []byte       // nil until something is appended after a flush (outPool)
	spare     []byte       // the last flush's buffer, kept while the budget is not shared
	scheduled bool         // a flush is guaranteed to follow (loop in Feed, or a wake sent)
	flushing  bool         // the transport took a flush and has not returned it yet
	directFD  int          // socket another goroutine may write while idle (output_direct.go); -1: none
	pending   atomic.Int64 // len(buf), for budget checks without the lock
	backlog   atomic.Int64 // bytes the transport still holds after its last write
	// peakBacklog is the most the transport held since the connection
	// last went idle: gnet copies it into pooled buffers, which outlive
	// their use (see releasedLarge).
	peakBacklog atomic.Int64
	starved     atomic.Bool // a consumer was refused for the budget; re-dispatch when drained
	draining    atomic.Bool // queued for the drain poller (write_hold.go)
	drainStalls uint8       // polls in a row that found no progress; on the loop
	// polledBacklog is what the transport held when the drain poller was
	// last asked to wake this connection, 0 once a flush went out; on
	// the loop.
	polledBacklog int64
	busy          bool // counted in busyConns; under outMu
	// smallFlushes counts flushes in a row that used little of their
	// buffer (oversized); on the loop.
	smallFlushes uint16
	// directFlushes counts flushes other connections wrote to this
	// socket (tests); under outMu.
	directFlushes uint64
}

func (c *Conn) overBudget() bool {
	return c.out.pending.Load()+c.out.backlog.Load() >= connOutputBudget()
}

// noteBusyLocked counts or uncounts c in busyConns for waiting bytes
// (pending plus backlog). outMu is held. A closed connection is never
// busy, whatever a late write appends after releaseOutput.
func (c *Conn) noteBusyLocked(waiting int64) {
	if b := waiting >= busyOutput && !c.closed.Load(); b != c.out.busy {
		c.out.busy = b
		if b {
			busyConns.Add(1)
		} else {
			busyConns.Add(-1)
		}
	}
}

// lockOut returns the buffer to append to; unlockOut must follow.
func (c *Conn) lockOut() []byte {
	c.outMu.Lock()
	if c.out.buf == nil {
		c.out.buf = outPool.get()
	}
	return c.out.buf
}

// lockOutFor is lockOut for an append of about n bytes. A buffer short of
// room doubles: append grows a large slice by a quarter at a time, so a
// flush filling an output buffer from a few KiB to the 1 MiB budget took
// ~25 allocations and copied ~4 MiB on the way (issue 19's 1 KiB profile:
// AppendBody's copy and growth were 12% of the broker, and growth 88% of
// the bytes the hot path allocated).
func (c *Conn) lockOutFor(n int) []byte {
	b := c.lockOut()
	if free := cap(b) - len(b); free < n && !budgetShared() {
		// No floor: a connection that gets a small delivery now and then
		// keeps buffers of its flushes' size, not of a burst's. Not past
		// the budget (plus this append), and not at all while the budget
		// is shared: 32 consumers doubling their buffers in the 32p/32c
		// case made garbage faster than GC returned it, peaking at 75-95 MB
		// RSS in a third of the runs against 37-54 MB with append's growth.
		b = slices.Grow(b, max(n, min(2*cap(b), int(connOutputBudget())+n)-len(b)))
		c.out.buf = b
	}
	return b
}

// unlockOut stores the grown buffer and wakes the connection's loop if no
// flush is scheduled yet.
func (c *Conn) unlockOut(b []byte) {
	if c.storeOutAndUnlock(b) {
		c.t.Wake()
	}
}

// storeOutAndUnlock keeps the grown buffer, marks a flush as scheduled and
// unlocks; it reports whether the caller must wake the loop for that flush.
func (c *Conn) storeOutAndUnlock(b []byte) (wake bool) {
	c.out.buf = b
	c.out.pending.Store(int64(len(b)))
	c.noteBusyLocked(int64(len(b)) + c.out.backlog.Load())
	wake = !c.out.scheduled
	c.out.scheduled = true
	c.outMu.Unlock()
	return wake
}

// unlockOutFrom is unlockOut for a delivery caused by a publish on origin
// (a *Conn running its Feed on this goroutine, or nil). Instead of waking
// this connection's loop for every message, the publisher wakes each
// connection it delivered to once, at the end of its Feed: gnet's Wake
// allocates, so per-message wakes were the last allocation on the hot path.
func (c *Conn) unlockOutFrom(b []byte, origin any) {
	pub, _ := origin.(*Conn)
	if pub == nil || pub == c {
		c.unlockOut(b)
		return
	}
	if c.storeOutAndUnlock(b) {
		pub.deferredWakes = append(pub.deferredWakes, c)
	}
}

// wakeDeferred wakes the connections this one delivered to during Feed.
func (c *Conn) wakeDeferred() {
	for i, d := range c.deferredWakes {
		if !d.flushDirect() {
			d.t.Wake()
		}
		c.deferredWakes[i] = nil
	}
	c.deferredWakes = c.deferredWakes[:0]
}

// appendLoop is for writes made on the connection's own loop inside Feed,
// which always ends with a flush.
func (c *Conn) appendLoop(f func([]byte) []byte) {
	c.outMu.Lock()
	if c.out.buf == nil {
		c.out.buf = outPool.get()
	}
	c.out.buf = f(c.out.buf)
	c.out.pending.Store(int64(len(c.out.buf)))
	c.noteBusyLocked(int64(len(c.out.buf)) + c.out.backlog.Load())
	c.outMu.Unlock()
}

// beginFeed marks that a flush will follow, so other goroutines need not
// wake the loop while it is already running for this connection.
func (c *Conn) beginFeed() {
	c.outMu.Lock()
	c.out.scheduled = true
	c.outMu.Unlock()
}

// TakeOutput hands the transport everything pending. The transport writes it
// (copying what the socket does not take) and returns it with ReturnOutput.
func (c *Conn) TakeOutput() []byte {
	c.outMu.Lock()
	b := c.out.buf
	c.out.buf = c.out.spare[:0] // nil: the next append takes one from outPool
	c.out.spare = nil
	c.out.scheduled = false
	c.out.flushing = true
	c.out.pending.Store(0)
	c.outMu.Unlock()
	c.out.polledBacklog = 0 // the transport took a flush: a later hold starts afresh
	if c.work.Load() || len(c.afterFlush) > 0 {
		c.kick()
	}
	return b
}

// dispatchAfterFlush starts deliveries for consumers whose consume-ok went
// out with the previous flush.
func (c *Conn) dispatchAfterFlush() {
	if len(c.afterFlush) == 0 {
		return
	}
	qs := c.afterFlush
	c.afterFlush = nil
	for _, q := range qs {
		q.Dispatch()
	}
}

// ReturnOutput gives a written buffer back for reuse and records how much the
// transport still holds; when that falls under budget, starved consumers get
// deliveries again.
func (c *Conn) ReturnOutput(b []byte, backlog int) {
	c.out.backlog.Store(int64(backlog))
	if int64(backlog) > c.out.peakBacklog.Load() {
		c.out.peakBacklog.Store(int64(backlog))
	}
	keep := c.keepBuffer(b)
	spare := keep && !budgetShared()
	c.outMu.Lock()
	c.out.flushing = false
	if spare && c.out.spare == nil {
		c.out.spare = b[:0]
	} else {
		spare = false
	}
	c.noteBusyLocked(c.out.pending.Load() + int64(backlog))
	c.outMu.Unlock()
	if !keep {
		releasedLarge(cap(b))
	} else if !spare {
		// A full pool leaves b to the GC, which runs anyway while this
		// many connections are busy: not counted in releasedLarge, whose
		// forced collections return the pages to the OS only for them to
		// be faulted back in.
		outPool.put(b)
	}
	if !c.overBudget() && c.out.starved.Swap(false) {
		c.redispatch()
	}
}

// keepBuffer reports whether b, just written, is worth reusing. On the loop.
func (c *Conn) keepBuffer(b []byte) bool { return cap(b) <= maxKeptBuffer() && !c.oversized(b) }

// oversizedAfter is how many flushes in a row may use under a quarter of
// a big buffer before it is let go; oversizedAfterShared while the budget
// is shared (many connections busy, each with a small budget). Alone, a
// connection delivering 1 KiB messages flat out flushes ~100 KiB every
// 100-200 µs and, each time the socket is slow for a moment, a held
// megabyte: after 16 small flushes its buffers went, only to be grown
// again at the next burst (46 times in 1 M messages of BenchmarkEndToEnd,
// 90-170 B allocated and copied per message).
const (
	oversizedAfter       = 256
	oversizedAfterShared = 16
)

// oversized reports whether b, just written, was sized for a burst long
// past: a connection whose flushes have used under a quarter of a buffer
// over 64 KiB, oversizedAfter times in a row (oversizedAfterShared while
// the budget is shared), gets a smaller one. Kept buffers otherwise keep
// the size of the biggest flush since the connection went idle: 32
// consumers kept ~14 MB that way in issue 19's 32p/32c case after their
// budget had shrunk. On the loop.
func (c *Conn) oversized(b []byte) bool {
	if cap(b) <= 64<<10 || len(b) >= cap(b)/4 {
		c.out.smallFlushes = 0
		return false
	}
	c.out.smallFlushes++
	if c.out.smallFlushes < oversizedAfter && (c.out.smallFlushes < oversizedAfterShared || !budgetShared()) {
		return false
	}
	c.out.smallFlushes = 0
	return true
}

// needsDrainCheck reports whether the transport should poll the backlog
// again soon (it has no "drained" event).
func (c *Conn) needsDrainCheck() bool {
	return c.out.starved.Load() || c.out.backlog.Load() > 0
}

// releaseIdle drops big output buffers of a connection that has written
// nothing for a while, so idle connections do not pin burst-sized memory.
// Called by the ticker.
func (c *Conn) releaseIdle() {
	const small = 64 << 10
	c.outMu.Lock()
	if len(c.out.buf) == 0 && (cap(c.out.buf) > small || cap(c.out.spare) > small) {
		releasedLarge(cap(c.out.buf) + cap(c.out.spare))
		c.out.buf, c.out.spare = nil, nil
	}
	c.outMu.Unlock()
	c.releaseBacklog()
	if c.carryHeld.Load() {
		c.post(c.releaseCarry) // the buffer belongs to the loop
	}
}

// releaseCarry drops the split-frame buffer of a connection that is not
// in the middle of a frame (carry.go). On the connection's loop.
func (c *Conn) releaseCarry() {
	if len(c.carry) == 0 {
		c.carry = nil
		c.carryHeld.Store(false)
	}
}

// releaseBacklog counts what the transport buffered for this connection
// as released once it is idle or closed: those buffers sit in gnet's pool.
func (c *Conn) releaseBacklog() {
	if c.out.backlog.Load() == 0 {
		releasedPooled(int(c.out.peakBacklog.Swap(0)))
	}
}

// releaseOutput drops a closed connection's buffers.
func (c *Conn) releaseOutput() {
	c.outMu.Lock()
	n := cap(c.out.buf) + cap(c.out.spare)
	c.out.buf, c.out.spare = nil, nil
	c.noteBusyLocked(0)
	c.outMu.Unlock()
	c.out.backlog.Store(0) // the transport let go of it with the socket
	releasedClosed(n)
	c.releaseBacklog()
}
