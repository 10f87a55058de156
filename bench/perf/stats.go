package perf

import "sync/atomic"

// producerStat is owned by one producer goroutine; others only read it.
type producerStat struct {
	published atomic.Int64
	p         atomic.Pointer[producerRef]
	_         [48]byte // keep producers' counters on separate cache lines
}

type producerRef struct{ producer }

// consumerStat is owned by one consumer goroutine. hist, lastNs and stale
// are read only after the goroutine ended.
type consumerStat struct {
	delivered atomic.Int64
	hist      *Hist
	lastNs    int64
	sinceNs   int64 // messages stamped earlier belong to an older run
	stale     int64
	_         [24]byte
}

// Stats aggregates a run's counters.
type Stats struct {
	prod []*producerStat
	cons []*consumerStat
}

func newStats(producers, consumers int, sinceNs int64) *Stats {
	s := &Stats{}
	for i := 0; i < producers; i++ {
		s.prod = append(s.prod, &producerStat{})
	}
	for i := 0; i < consumers; i++ {
		s.cons = append(s.cons, &consumerStat{hist: NewHist(), sinceNs: sinceNs})
	}
	return s
}

// Totals sums the live counters.
func (s *Stats) Totals() (published, confirmed, nacked, delivered int64) {
	for _, p := range s.prod {
		published += p.published.Load()
		if r := p.p.Load(); r != nil {
			confirmed += int64(r.Confirmed())
			nacked += int64(r.Nacked())
		}
	}
	for _, c := range s.cons {
		delivered += c.delivered.Load()
	}
	return
}

// record is the per-delivery hook of consumer i. Messages stamped before the
// run's setup (left over by an earlier run's publishers) are counted apart.
func (c *consumerStat) record(sendNs, recvNs int64) {
	if sendNs > 0 && sendNs < c.sinceNs {
		c.stale++
		return
	}
	c.delivered.Add(1)
	c.lastNs = recvNs
	if sendNs > 0 {
		c.hist.Record(recvNs - sendNs)
	}
}
