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
	defer s.recoverFault()
	if s.closed {
		return d, false
	}
	if len(s.requeued) > 0 {
		rec, _, err := s.log.Read(s.requeued[0].pos)
		if err != nil {
			return d, false // next drops it and logs why
		}
		return delivery(&rec, true), true
	}
	for {
		q, rec, _, err := s.log.Next(s.cur)
		switch {
		case err == segment.ErrEnd:
			return d, false
		case err != nil:
			if !s.recover(q, err) {
				return d, false
			}
			continue
		}
		if end, done := s.idx.Skip(q); done {
			s.cur = segment.Pos{Seg: q.Seg, Off: end}
			continue
		}
		return delivery(&rec, s.idx.Redelivered(q)), true
	}
}
