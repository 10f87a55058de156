package mgmt

import (
	"time"

	"github.com/warrenmq/warren/broker"
)

// Exchange rates (message_stats publish_in / publish_out), from the same
// sampler round as the queues': each exchange's two atomics read every
// sampleInterval, exchanges gone since the last round forgotten.

func exchangeCounts(x *broker.Exchange) []uint64 {
	return []uint64{x.PublishedIn.Load(), x.PublishedOut.Load()}
}

// sampleExchanges reads every exchange of every vhost (no lock of r held
// while reading) and adds the readings under r.mu.
func (r *rates) sampleExchanges(now time.Time) {
	type reading struct {
		x *broker.Exchange
		c []uint64
	}
	var readings []reading
	for _, v := range r.b.VHostObjects() {
		for _, x := range v.Exchanges() {
			readings = append(readings, reading{x, exchangeCounts(x)})
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	next := make(map[*broker.Exchange]*objRing, len(readings))
	for _, rd := range readings {
		ring := r.exchanges[rd.x]
		if ring == nil {
			ring = &objRing{}
		}
		ring.add(now, rd.c)
		next[rd.x] = ring
	}
	r.exchanges = next
}

// exchangeStats is an exchange's message_stats, or nil for one nothing
// was published to yet: RabbitMQ lists such an exchange without the key.
func (r *rates) exchangeStats(x *broker.Exchange) map[string]any {
	c := exchangeCounts(x)
	if c[0] == 0 && c[1] == 0 {
		return nil
	}
	r.mu.Lock()
	ring := r.exchanges[x]
	in, out := ring.rate(0), ring.rate(1)
	r.mu.Unlock()
	return map[string]any{
		"publish_in": c[0], "publish_in_details": map[string]any{"rate": in},
		"publish_out": c[1], "publish_out_details": map[string]any{"rate": out},
	}
}
