package broker

// requeuedHeap holds a classic store's requeued messages as runs of
// tickets, a binary min-heap by the position of each run's first record:
// requeued messages go out first, in their original order. Tickets
// requeued in order (a channel closing with a million unacked deliveries)
// extend the run at the end of the heap, so they cost one entry.
type requeuedHeap []TicketRun

// keepRequeued is the capacity an emptied heap keeps for the next burst.
const keepRequeued = 4096

func (h requeuedHeap) empty() bool { return len(h) == 0 }

// push adds t (in flight, so no entry holds its record).
func (h *requeuedHeap) push(t Ticket) {
	s := *h
	if n := len(s); n > 0 && s[n-1].Extend(t) {
		// The last entry grew at its end: its key, the first position,
		// did not change, so the heap is still ordered.
		return
	}
	s = append(s, RunOf(t))
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].pos.Less(s[p].pos) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
	*h = s
}

// pop takes the first ticket of the lowest run.
func (h *requeuedHeap) pop() Ticket {
	s := *h
	t := s[0].At(0)
	if s[0].n > 1 {
		s[0] = s[0].Slice(1, s[0].Len())
	} else {
		n := len(s) - 1
		s[0] = s[n]
		s = s[:n]
		if n == 0 && cap(s) > keepRequeued {
			s = nil
		}
	}
	s.down(0)
	*h = s
	return t
}

func (h requeuedHeap) down(i int) {
	n := len(h)
	for {
		m, l, r := i, 2*i+1, 2*i+2
		if l < n && h[l].pos.Less(h[m].pos) {
			m = l
		}
		if r < n && h[r].pos.Less(h[m].pos) {
			m = r
		}
		if m == i {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// each calls fn for every ticket in the heap, in no particular order.
func (h requeuedHeap) each(fn func(Ticket)) {
	for _, r := range h {
		for i := range r.Len() {
			fn(r.At(i))
		}
	}
}
