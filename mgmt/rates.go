package mgmt

import (
	"sync"
	"time"

	"github.com/warrenmq/warren/broker"
)

// sampleInterval is RabbitMQ's default collect_statistics_interval.
const sampleInterval = 5 * time.Second

// counts are the message counters of one object at one instant, in
// messageStats' order.
type counts [nCounters]uint64

const (
	cAck = iota
	cDeliverGet
	cGet
	cGetNoAck
	cPublish
	cRedeliver
	nCounters
)

// sample is one reading of an object's counters.
type sample struct {
	at time.Time
	c  counts
}

// rateRing keeps an object's last readings, oldest first; the rate is
// taken between the newest and the one before it, as RabbitMQ's basic
// rates mode reports the last interval.
type rateRing struct {
	s       [2]sample
	n       int
	changed time.Time // the first reading that differed from the one before it (idle.go)
}

func (r *rateRing) add(s sample) {
	if r.n == 0 || r.s[r.n-1].c != s.c {
		r.changed = s.at
	}
	if r.n == len(r.s) {
		copy(r.s[:], r.s[1:])
		r.n--
	}
	r.s[r.n] = s
	r.n++
}

// rates are the counters' growth per second over the last interval (0
// until there are two samples).
func (r *rateRing) rates() (out [nCounters]float64) {
	if r.n < 2 {
		return out
	}
	a, b := r.s[r.n-2], r.s[r.n-1]
	dt := b.at.Sub(a.at).Seconds()
	if dt <= 0 {
		return out
	}
	for i := range out {
		if b.c[i] >= a.c[i] {
			out[i] = float64(b.c[i]-a.c[i]) / dt
		}
	}
	return out
}

// rates samples every queue's counters and the broker's totals on a
// timer: nothing is counted per message here (the counters are the
// queues' own atomics); readers get the count now and the rate over the
// last interval.
type rates struct {
	b   *broker.Broker
	mu  sync.Mutex
	q   map[*broker.Queue]*rateRing
	v   map[string]*rateRing // by vhost name
	all rateRing
	ch  chanRing // the channels' counters (rates_channels.go)
	// Per connection and per channel (rates_objects.go).
	conns map[*broker.ConnEntry]*objRing
	chans map[*broker.ChannelEntry]*objRing
	// Per exchange (rates_exchanges.go).
	exchanges map[*broker.Exchange]*objRing
	stop      chan struct{}
	done      chan struct{}
	once      sync.Once
}

func newRates(b *broker.Broker) *rates {
	r := &rates{b: b, q: make(map[*broker.Queue]*rateRing), v: make(map[string]*rateRing), stop: make(chan struct{}), done: make(chan struct{})}
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
	var c counts
	c[cAck], c[cDeliverGet], c[cPublish] = q.Acked.Load(), q.Delivered.Load(), q.Published.Load()
	c[cGet], c[cGetNoAck], c[cRedeliver] = q.Got.Load(), q.GotNoAck.Load(), q.Redelivered.Load()
	return c
}

// sampleNow reads every queue; queues gone since the last round are
// forgotten.
func (r *rates) sampleNow(now time.Time) {
	r.sampleObjects(now)   // connections and channels: rates_objects.go
	r.sampleExchanges(now) // rates_exchanges.go
	seen := make(map[*broker.Queue]bool, len(r.q))
	var total counts
	type reading struct {
		q *broker.Queue
		c counts
	}
	var readings []reading
	perVHost := map[string]counts{}
	chans := channelCounts(r.b)
	for _, v := range r.b.VHostObjects() {
		var vt counts
		for _, q := range v.Queues() {
			c := queueCounts(q)
			readings = append(readings, reading{q, c})
			for i := range total {
				total[i] += c[i]
				vt[i] += c[i]
			}
		}
		perVHost[v.Name] = vt
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.v == nil {
		r.v = make(map[string]*rateRing)
	}
	for name, c := range perVHost {
		ring := r.v[name]
		if ring == nil {
			ring = &rateRing{}
			r.v[name] = ring
		}
		ring.add(sample{now, c})
	}
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
	r.ch.add(now, chans)
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
	Get               uint64 `json:"get"`
	GetDetails        rate   `json:"get_details"`
	GetNoAck          uint64 `json:"get_no_ack"`
	GetNoAckDetails   rate   `json:"get_no_ack_details"`
	Publish           uint64 `json:"publish"`
	PublishDetails    rate   `json:"publish_details"`
	Redeliver         uint64 `json:"redeliver"`
	RedeliverDetails  rate   `json:"redeliver_details"`
}

func statsOf(c counts, r [nCounters]float64) messageStats {
	return messageStats{
		Ack: c[cAck], AckDetails: rate{r[cAck]},
		DeliverGet: c[cDeliverGet], DeliverGetDetails: rate{r[cDeliverGet]},
		Get: c[cGet], GetDetails: rate{r[cGet]},
		GetNoAck: c[cGetNoAck], GetNoAckDetails: rate{r[cGetNoAck]},
		Publish: c[cPublish], PublishDetails: rate{r[cPublish]},
		Redeliver: c[cRedeliver], RedeliverDetails: rate{r[cRedeliver]},
	}
}

func (s messageStats) asMap() map[string]any {
	m := map[string]any{}
	for k, v := range map[string]struct {
		n uint64
		r float64
	}{
		"ack": {s.Ack, s.AckDetails.Rate}, "deliver_get": {s.DeliverGet, s.DeliverGetDetails.Rate},
		"get": {s.Get, s.GetDetails.Rate}, "get_no_ack": {s.GetNoAck, s.GetNoAckDetails.Rate},
		"publish": {s.Publish, s.PublishDetails.Rate}, "redeliver": {s.Redeliver, s.RedeliverDetails.Rate},
	} {
		m[k], m[k+"_details"] = v.n, map[string]any{"rate": v.r}
	}
	return m
}

// queueStats is a queue's message_stats: counts now, rates over the last
// sampling interval (0 until the queue has been sampled twice).
func (r *rates) queueStats(q *broker.Queue) messageStats {
	r.mu.Lock()
	var rs [nCounters]float64
	if ring := r.q[q]; ring != nil {
		rs = ring.rates()
	}
	r.mu.Unlock()
	return statsOf(queueCounts(q), rs)
}

// totalStats is the broker's message_stats (the sum over queues).
func (r *rates) totalStats(st broker.Stats) messageStats {
	r.mu.Lock()
	rs := r.all.rates()
	r.mu.Unlock()
	var c counts
	c[cAck], c[cDeliverGet], c[cPublish] = st.Acked, st.Delivered, st.Published
	c[cGet], c[cGetNoAck], c[cRedeliver] = st.Got, st.GotNoAck, st.Redelivered
	return statsOf(c, rs)
}

// vhostStats is a vhost's message_stats: the sum over its queues.
func (r *rates) vhostStats(v *broker.VHost) messageStats {
	var c counts
	for _, q := range v.Queues() {
		qc := queueCounts(q)
		for i := range c {
			c[i] += qc[i]
		}
	}
	r.mu.Lock()
	var rs [nCounters]float64
	if ring := r.v[v.Name]; ring != nil {
		rs = ring.rates()
	}
	r.mu.Unlock()
	return statsOf(c, rs)
}
