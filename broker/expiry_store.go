package broker

import "github.com/warrenmq/warren/segment"

// headStore is a store that can show its next ready message without
// handing it out, which message TTL needs: an expired head is removed, a
// live one stays where it is. A store without it (none today) keeps its
// messages until they are delivered.
type headStore interface {
	// head returns what next would hand out, without moving it in flight.
	// d's views are valid until the next call on the store.
	head() (d Delivery, ok bool)
}

var _ headStore = (*classicStore)(nil)

// head is next without its effects: the cursor only moves over records
// already done, which next would skip too.
func (s *classicStore) head() (d Delivery, ok bool) {
	_, d, ok = s.headAt()
	return d, ok
}

// headAt is head with the message's position.
func (s *classicStore) headAt() (p segment.Pos, d Delivery, ok bool) {
	defer s.recoverFault()
	if s.closed {
		return p, d, false
	}
	if len(s.requeued) > 0 {
		p = s.requeued[0].pos
		rec, _, err := s.log.Read(p)
		if err != nil {
			return p, d, false // next drops it and logs why
		}
		return p, delivery(&rec, true), true
	}
	for {
		q, rec, _, err := s.log.Next(s.cur)
		switch {
		case err == segment.ErrEnd:
			return p, d, false
		case err != nil:
			if !s.recover(q, err) {
				return p, d, false
			}
			continue
		}
		if end, done := s.idx.Skip(q); done {
			s.cur = segment.Pos{Seg: q.Seg, Off: end}
			continue
		}
		return q, delivery(&rec, s.idx.Redelivered(q)), true
	}
}

// A priority queue's head is its highest non-empty level's, as next picks.
var (
	_ headStore   = (*priorityStore)(nil)
	_ ticketStore = (*priorityStore)(nil)
	_ bytesStore  = (*priorityStore)(nil)
)

func (s *priorityStore) head() (d Delivery, ok bool) {
	if s.closed {
		return d, false
	}
	for i := min(s.top, len(s.levels)-1); i >= 0; i-- {
		if l := s.levels[i]; l != nil && l.readyCount() > 0 {
			return l.head()
		}
	}
	return d, false
}

func (s *priorityStore) readTicket(t Ticket) (Delivery, bool) {
	if s.closed || int(t.level) >= len(s.levels) || s.levels[t.level] == nil {
		return Delivery{}, false
	}
	return s.levels[t.level].readTicket(t)
}

func (s *priorityStore) readyBytes() (n int64) {
	for _, i := range s.open {
		n += s.levels[i].readyBytes()
	}
	return n
}
