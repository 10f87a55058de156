package broker

// Stats is a broker-wide summary read from the queues' lock-free counters.
// Published, Delivered and Acked include the queues deleted since start, so
// they never fall.
type Stats struct {
	Queues    int
	Consumers int
	Ready     int64
	Unacked   int64
	Published uint64
	Delivered uint64
	Acked     uint64
	// Gets with and without acknowledgement, redeliveries.
	Got, GotNoAck, Redelivered uint64
}

// Stats sums every queue's counters.
func (b *Broker) Stats() Stats {
	var s Stats
	b.mu.RLock()
	defer b.mu.RUnlock()
	g := b.goneTotals
	s.Published, s.Delivered, s.Acked = g.Published, g.Delivered, g.Acked
	s.Got, s.GotNoAck, s.Redelivered = g.Got, g.GotNoAck, g.Redelivered
	for v := range b.allVHostsLocked() {
		v.mu.RLock()
		t := v.deletedTotals
		for _, q := range v.queues {
			s.Queues++
			s.Consumers += q.ConsumerCount()
			s.Ready += q.Ready()
			s.Unacked += q.Unacked()
			t.add(q)
		}
		v.mu.RUnlock()
		s.Published += t.Published
		s.Delivered += t.Delivered
		s.Acked += t.Acked
		s.Got += t.Got
		s.GotNoAck += t.GotNoAck
		s.Redelivered += t.Redelivered
	}
	return s
}
