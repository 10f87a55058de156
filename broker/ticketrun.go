package broker

import "github.com/warrenmq/warren/segment"

// TicketRun is the tickets of n records that follow each other in one
// segment and are alike (same size, body length and persistence): what a
// consumer that reads a queue in order and has not acked yet holds, by the
// million. It costs what one Ticket costs, so in-flight and requeued
// messages take memory per run, not per message.
type TicketRun struct {
	pos        segment.Pos // the first record
	size, body uint32
	n          uint32
	persistent bool
}

// maxRun keeps offsets and counts far from overflow.
const maxRun = 1 << 30

// RunOf is the run of the one ticket t.
func RunOf(t Ticket) TicketRun {
	return TicketRun{pos: t.pos, size: t.size, body: t.body, n: 1, persistent: t.persistent}
}

// Extend adds t at the end of r if t's record comes right after r's last
// and is like it. It reports whether it did.
func (r *TicketRun) Extend(t Ticket) bool {
	if t.size != r.size || t.body != r.body || t.persistent != r.persistent ||
		t.pos.Seg != r.pos.Seg || r.n >= maxRun || r.size == 0 {
		return false
	}
	if uint64(t.pos.Off) != uint64(r.pos.Off)+uint64(r.n)*uint64(r.size) {
		return false
	}
	r.n++
	return true
}

// Len is the number of tickets in r.
func (r TicketRun) Len() int { return int(r.n) }

// At is r's i-th ticket, 0 <= i < Len().
func (r TicketRun) At(i int) Ticket {
	return Ticket{pos: segment.Pos{Seg: r.pos.Seg, Off: r.pos.Off + uint32(i)*r.size}, size: r.size, body: r.body, persistent: r.persistent}
}

// Slice is the run of tickets i..j-1 of r, 0 <= i <= j <= Len().
func (r TicketRun) Slice(i, j int) TicketRun {
	s := r
	s.pos.Off += uint32(i) * r.size
	s.n = uint32(j - i)
	return s
}

// runRequeuer is a store that keeps requeued runs whole.
type runRequeuer interface {
	requeueRun(r TicketRun)
}

// RequeueRuns is Requeue for runs of tickets: a store that can keeps each
// run as one entry, so a consumer with a million unacked messages closing
// its channel costs a few bytes, not a copy of every ticket.
func (q *Queue) RequeueRuns(runs ...TicketRun) {
	q.mu.Lock()
	if !q.deleted {
		n := 0
		rq, whole := q.st.(runRequeuer)
		for _, r := range runs {
			n += r.Len()
			if whole {
				rq.requeueRun(r)
				continue
			}
			for i := range r.Len() {
				q.st.requeue(r.At(i))
			}
		}
		q.unackedN.Add(-int64(n))
		q.dispatchLocked(nil)
		q.readyN.Store(int64(q.st.readyCount()))
	}
	q.unlock()
}
