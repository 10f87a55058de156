package broker

// Stats is a broker-wide summary read from the queues' lock-free counters.
type Stats struct {
	Queues    int
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
	for _, v := range b.vhosts {
		v.mu.RLock()
		for _, q := range v.queues {
			s.Queues++
			s.Ready += q.Ready()
			s.Unacked += q.Unacked()
			s.Published += q.Published.Load()
			s.Delivered += q.Delivered.Load()
			s.Acked += q.Acked.Load()
			s.Got += q.Got.Load()
			s.GotNoAck += q.GotNoAck.Load()
			s.Redelivered += q.Redelivered.Load()
		}
		v.mu.RUnlock()
	}
	return s
}
