package mgmt

import (
	"sync"
	"time"

	"github.com/warrenmq/warren/broker"
)

// sampleInterval is RabbitMQ's default collect_statistics_interval.
const sampleInterval = 5 * time.Second

// counts are the message counters of one object at one instant.
type counts struct{ publish, deliverGet, ack uint64 }

// sample is one reading of an object's counters.
type sample struct {
	at time.Time
	c  counts
}

// rateRing keeps an object's last readings, oldest first; the rate is
// taken between the newest and the one before it, as RabbitMQ's basic
// rates mode reports the last interval.
type rateRing struct {
	s [2]sample
	n int
}

func (r *rateRing) add(s sample) {
	if r.n == len(r.s) {
		copy(r.s[:], r.s[1:])
		r.n--
	}
	r.s[r.n] = s
	r.n++
}

func (r *rateRing) rates() (pub, del, ack float64) {
	if r.n < 2 {
		return 0, 0, 0
	}
	a, b := r.s[r.n-2], r.s[r.n-1]
	dt := b.at.Sub(a.at).Seconds()
	if dt <= 0 {
		return 0, 0, 0
	}
	rate := func(x, y uint64) float64 {
		if y < x {
			return 0
		}
		return float64(y-x) / dt
	}
	return rate(a.c.publish, b.c.publish), rate(a.c.deliverGet, b.c.deliverGet), rate(a.c.ack, b.c.ack)
}

// rates samples every queue's counters and the broker's totals on a
// timer: nothing is counted per message here (the counters are the
// queues' own atomics); readers get the count now and the rate over the
// last interval.
type rates struct {
	b    *broker.Broker
	mu   sync.Mutex
	q    map[*broker.Queue]*rateRing
	all  rateRing
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func newRates(b *broker.Broker) *rates {
	r := &rates{b: b, q: make(map[*broker.Queue]*rateRing), stop: make(chan struct{}), done: make(chan struct{})}
	r.sampleNow(time.Now())
	go r.run()
	return r
}

func (r *rates) run() {
	defer close(r.done)
	t := time.NewTicker(sampleInterval)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			r.sampleNow(now)
		case <-r.stop:
			return
		}
	}
}

func (r *rates) close() {
	r.once.Do(func() { close(r.stop) })
	<-r.done
}

func queueCounts(q *broker.Queue) counts {
	return counts{q.Published.Load(), q.Delivered.Load(), q.Acked.Load()}
}

// sampleNow reads every queue; queues gone since the last round are
// forgotten.
func (r *rates) sampleNow(now time.Time) {
	seen := make(map[*broker.Queue]bool, len(r.q))
	var total counts
	type reading struct {
		q *broker.Queue
		c counts
	}
	var readings []reading
	for _, v := range r.b.VHosts() {
		for _, q := range v.Queues() {
			c := queueCounts(q)
			readings = append(readings, reading{q, c})
			total.publish += c.publish
			total.deliverGet += c.deliverGet
			total.ack += c.ack
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rd := range readings {
		ring := r.q[rd.q]
		if ring == nil {
			ring = &rateRing{}
			r.q[rd.q] = ring
		}
		ring.add(sample{now, rd.c})
		seen[rd.q] = true
	}
	for q := range r.q {
		if !seen[q] {
			delete(r.q, q)
		}
	}
	r.all.add(sample{now, total})
}

// rate is a counter's *_details.
type rate struct {
	Rate float64 `json:"rate"`
}

// messageStats is an object's message_stats, fields in key order.
type messageStats struct {
	Ack               uint64 `json:"ack"`
	AckDetails        rate   `json:"ack_details"`
	DeliverGet        uint64 `json:"deliver_get"`
	DeliverGetDetails rate   `json:"deliver_get_details"`
	Publish           uint64 `json:"publish"`
	PublishDetails    rate   `json:"publish_details"`
}

func statsOf(c counts, pub, del, ack float64) messageStats {
	return messageStats{Ack: c.ack, AckDetails: rate{ack}, DeliverGet: c.deliverGet, DeliverGetDetails: rate{del}, Publish: c.publish, PublishDetails: rate{pub}}
}

func (s messageStats) asMap() map[string]any {
	return map[string]any{
		"publish": s.Publish, "publish_details": map[string]any{"rate": s.PublishDetails.Rate},
		"deliver_get": s.DeliverGet, "deliver_get_details": map[string]any{"rate": s.DeliverGetDetails.Rate},
		"ack": s.Ack, "ack_details": map[string]any{"rate": s.AckDetails.Rate},
	}
}

// queueStats is a queue's message_stats: counts now, rates over the last
// sampling interval (0 until the queue has been sampled twice).
func (r *rates) queueStats(q *broker.Queue) messageStats {
	r.mu.Lock()
	var pub, del, ack float64
	if ring := r.q[q]; ring != nil {
		pub, del, ack = ring.rates()
	}
	r.mu.Unlock()
	return statsOf(queueCounts(q), pub, del, ack)
}

// totalStats is the broker's message_stats (the sum over queues).
func (r *rates) totalStats(st broker.Stats) messageStats {
	r.mu.Lock()
	pub, del, ack := r.all.rates()
	r.mu.Unlock()
	return statsOf(counts{st.Published, st.Delivered, st.Acked}, pub, del, ack)
}
