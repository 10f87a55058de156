package netio

import (
	"math/bits"
	"sort"
	"unsafe"

	"github.com/warrenmq/warren/broker"
)

// unackedRun is a stretch of deliveries awaiting ack: consecutive tags from
// one queue to one consumer whose records follow each other in the log
// (broker.TicketRun). A consumer reading a queue in order gets one run for
// all of its unacked deliveries, so a million of them cost a few bytes, not
// a million entries. Deliveries that interleave (several consumers or
// queues on a channel) make runs of one.
type unackedRun struct {
	tag uint64 // the first delivery's; the run holds tag .. tag+t.Len()-1
	q   *broker.Queue
	k   *consumer // nil for basic.get
	t   broker.TicketRun
	// Deliveries [0, lo) are settled; past lo, those in gone (nil until
	// the first out-of-order ack) are settled too.
	lo uint32
	// at is when the run's first delivery went out (timeoutClock ticks);
	// a run takes deliveries for at most timeoutSlack, so its oldest
	// unsettled one left at or after at and before at+timeoutSlack.
	at   uint32
	gone *[]uint64
}

func (r *unackedRun) n() uint32 { return uint32(r.t.Len()) }

func (r *unackedRun) settled(i uint32) bool {
	if i < r.lo {
		return true
	}
	if r.gone == nil {
		return false
	}
	w := i / 64
	return int(w) < len(*r.gone) && (*r.gone)[w]&(1<<(i%64)) != 0
}

// settle marks delivery i (not settled yet) settled.
func (r *unackedRun) settle(i uint32) {
	if i == r.lo {
		r.lo++
		r.skipSettled()
		return
	}
	if r.gone == nil {
		r.gone = new([]uint64)
	}
	w := int(i / 64)
	for len(*r.gone) <= w {
		*r.gone = append(*r.gone, 0)
	}
	(*r.gone)[w] |= 1 << (i % 64)
}

// settleTo marks every delivery up to and including i settled.
func (r *unackedRun) settleTo(i uint32) {
	r.lo = max(r.lo, i+1)
	r.skipSettled()
}

func (r *unackedRun) skipSettled() {
	if r.gone == nil {
		return
	}
	g := *r.gone
	for r.lo < r.n() {
		w := int(r.lo / 64)
		if w >= len(g) {
			break
		}
		rest := g[w] >> (r.lo % 64)
		if rest&1 == 0 {
			break
		}
		r.lo += min(uint32(bits.TrailingZeros64(^rest)), 64-r.lo%64)
	}
	if r.lo >= uint32(len(g))*64 {
		r.gone = nil // nothing settled out of order is left past lo
	}
}

// done reports whether every delivery of the run is settled.
func (r *unackedRun) done() bool { return r.lo >= r.n() }

// emit appends the unsettled deliveries among [r.lo, end) as runs.
func (r *unackedRun) emit(end uint32, out []settledRun) []settledRun {
	for i := r.lo; i < end; {
		if r.settled(i) {
			i++
			continue
		}
		j := i + 1
		for j < end && !r.settled(j) {
			j++
		}
		out = append(out, settledRun{q: r.q, k: r.k, t: r.t.Slice(int(i), int(j))})
		i = j
	}
	return out
}

// settledRun is deliveries an ack, nack or close took off the list.
type settledRun struct {
	q *broker.Queue
	k *consumer
	t broker.TicketRun
}

// unackedList holds a channel's deliveries in tag order. Acks mostly come in
// order, so removal is from the front; out-of-order acks mark deliveries
// settled inside their run.
type unackedList struct {
	r    []unackedRun
	head int
}

// keepUnacked is the capacity (in runs) a list keeps once it empties: more
// is given back, so a burst of unacked deliveries does not pin its memory.
const keepUnacked = 1024

// push adds a delivery; it reports whether the list was empty before.
func (l *unackedList) push(tag uint64, q *broker.Queue, k *consumer, t broker.Ticket) bool {
	now := timeoutClock.Load()
	n := len(l.r)
	if n > l.head {
		last := &l.r[n-1]
		if last.q == q && last.k == k && last.tag+uint64(last.n()) == tag && now-last.at < timeoutSlack && last.t.Extend(t) {
			return false
		}
	}
	l.r = append(l.r, unackedRun{tag: tag, q: q, k: k, t: broker.RunOf(t), at: now})
	return n == l.head
}

// oldest is the run holding the oldest unsettled delivery, or nil.
func (l *unackedList) oldest() *unackedRun {
	if l.head < len(l.r) {
		return &l.r[l.head]
	}
	return nil
}

func (l *unackedList) trimFront() {
	for l.head < len(l.r) && l.r[l.head].done() {
		l.r[l.head] = unackedRun{}
		l.head++
	}
	if l.head == len(l.r) {
		l.reset()
	} else if l.head > 1024 && l.head > len(l.r)/2 {
		n := copy(l.r, l.r[l.head:])
		clear(l.r[n:])
		l.r, l.head = l.r[:n], 0
	}
}

func (l *unackedList) reset() {
	if cap(l.r) > keepUnacked {
		releasedLarge(cap(l.r) * int(unsafe.Sizeof(unackedRun{})))
		l.r = nil
	} else {
		clear(l.r)
		l.r = l.r[:0]
	}
	l.head = 0
}

// find returns the run holding tag and the delivery's index in it, or -1
// if tag is not outstanding.
func (l *unackedList) find(tag uint64) (int, uint32) {
	s := l.r[l.head:]
	if len(s) == 0 {
		return -1, 0
	}
	i := 0 // acks in order land in the first run
	if f := &s[0]; tag >= f.tag+uint64(f.n()) {
		i = sort.Search(len(s), func(i int) bool { return s[i].tag+uint64(s[i].n()) > tag })
	}
	if i == len(s) || tag < s[i].tag {
		return -1, 0
	}
	j := uint32(tag - s[i].tag)
	if s[i].settled(j) {
		return -1, 0
	}
	return l.head + i, j
}

// take removes the deliveries an ack names and appends them to out. With
// multiple, every outstanding tag up to tag goes (tag 0: all of them); the
// named tag itself must be outstanding unless it is 0, as in RabbitMQ.
func (l *unackedList) take(tag uint64, multiple bool, out []settledRun) ([]settledRun, bool) {
	if multiple && tag == 0 {
		for i := l.head; i < len(l.r); i++ {
			out = l.r[i].emit(l.r[i].n(), out)
		}
		l.reset()
		return out, true
	}
	i, j := l.find(tag)
	if i < 0 {
		return out, false
	}
	if !multiple {
		r := &l.r[i]
		out = append(out, settledRun{q: r.q, k: r.k, t: r.t.Slice(int(j), int(j)+1)})
		r.settle(j)
	} else {
		for x := l.head; x < i; x++ {
			r := &l.r[x]
			out = r.emit(r.n(), out)
			r.settleTo(r.n() - 1)
		}
		r := &l.r[i]
		out = r.emit(j+1, out)
		r.settleTo(j)
	}
	l.trimFront()
	return out, true
}

// has reports whether an ack of tag would find something (tx validation).
func (l *unackedList) has(tag uint64, multiple bool) bool {
	if multiple && tag == 0 {
		return true
	}
	i, _ := l.find(tag)
	return i >= 0
}
