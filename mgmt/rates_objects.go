package mgmt

import (
	"slices"
	"time"

	"github.com/warrenmq/warren/broker"
)

// Rates per connection (recv_oct_details, send_oct_details) and per
// channel (message_stats' *_details), from the same sampler round as the
// queues': the registry's atomics read every sampleInterval, two readings
// kept per object, objects gone since the last round forgotten.

// objRing is rateRing for a counter list of any length.
type objRing struct {
	at      [2]time.Time
	c       [2][]uint64
	n       int
	changed time.Time // the first reading that differed from the one before it (idle.go)
}

func (r *objRing) add(at time.Time, c []uint64) {
	if r.n == 0 || !slices.Equal(r.c[r.n-1], c) {
		r.changed = at
	}
	if r.n == 2 {
		r.at[0], r.c[0] = r.at[1], r.c[1]
		r.n--
	}
	r.at[r.n], r.c[r.n] = at, c
	r.n++
}

// rate is counter i's growth per second over the last interval (0 until
// there are two readings).
func (r *objRing) rate(i int) float64 {
	if r == nil || r.n < 2 {
		return 0
	}
	dt := r.at[1].Sub(r.at[0]).Seconds()
	a, b := r.c[0][i], r.c[1][i]
	if dt <= 0 || b < a {
		return 0
	}
	return float64(b-a) / dt
}

// The channel counters message_stats shows, in channelStatNames' order.
var channelStatNames = [...]string{
	"ack", "confirm", "deliver", "deliver_get", "deliver_no_ack", "drop_unroutable",
	"get", "get_empty", "get_no_ack", "publish", "redeliver", "return_unroutable",
}

func channelStatCounts(ch *broker.ChannelEntry) []uint64 {
	return []uint64{
		ch.Acked.Load(), ch.Confirmed.Load(), ch.ConsumeManualAck.Load(), ch.DeliveredCount(), ch.ConsumeAutoAck.Load(), ch.UnroutableDropped.Load(),
		ch.GetManualAck.Load(), ch.GetEmpty.Load(), ch.GetAutoAck.Load(), ch.Published.Load(), ch.Redelivered.Load(), ch.UnroutableReturned.Load(),
	}
}

func connByteCounts(c *broker.ConnEntry) []uint64 {
	return []uint64{c.BytesIn.Load(), c.BytesOut.Load()}
}

// sampleObjects reads every registered connection and channel (no lock of
// r held while reading) and adds the readings under r.mu.
func (r *rates) sampleObjects(now time.Time) {
	conns := r.b.Registry().Conns()
	type chReading struct {
		ch *broker.ChannelEntry
		c  []uint64
	}
	connReadings := make([][]uint64, len(conns))
	var chReadings []chReading
	for i, c := range conns {
		connReadings[i] = connByteCounts(c)
		for _, ch := range c.Channels() {
			chReadings = append(chReadings, chReading{ch, channelStatCounts(ch)})
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	conn := make(map[*broker.ConnEntry]*objRing, len(conns))
	for i, c := range conns {
		ring := r.conns[c]
		if ring == nil {
			ring = &objRing{}
		}
		ring.add(now, connReadings[i])
		conn[c] = ring
	}
	chans := make(map[*broker.ChannelEntry]*objRing, len(chReadings))
	for _, rd := range chReadings {
		ring := r.chans[rd.ch]
		if ring == nil {
			ring = &objRing{}
		}
		ring.add(now, rd.c)
		chans[rd.ch] = ring
	}
	r.conns, r.chans = conn, chans
}

// channelStats is a channel's message_stats with rates, as RabbitMQ's.
func (r *rates) channelStats(ch *broker.ChannelEntry) map[string]any {
	c := channelStatCounts(ch)
	r.mu.Lock()
	ring := r.chans[ch]
	m := make(map[string]any, 2*len(c))
	for i, name := range channelStatNames {
		m[name], m[name+"_details"] = c[i], map[string]any{"rate": ring.rate(i)}
	}
	r.mu.Unlock()
	return m
}

// connRates are a connection's recv_oct and send_oct rates.
func (r *rates) connRates(c *broker.ConnEntry) (recv, send float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ring := r.conns[c]
	return ring.rate(0), ring.rate(1)
}
