package mgmt

import (
	"testing"
	"time"

	"github.com/warrenmq/warren/broker"
)

// Rates are the counters' growth over the last sampling interval; a
// queue that is gone is forgotten at the next sample.
func TestRatesFromSamples(t *testing.T) {
	b, err := broker.Open(broker.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	v, _ := b.VHost("/")
	p := &broker.Principal{User: "guest", VHost: "/"}
	q, err := v.QueueDeclare(p, broker.QueueDeclareOptions{Name: "r"})
	if err != nil {
		t.Fatal(err)
	}
	publish := func(n int) {
		for range n {
			if _, _, err := v.Publish(p, &broker.Message{RoutingKey: []byte("r"), Body: []byte("x")}, &broker.PublishCache{}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := &rates{b: b, q: make(map[*broker.Queue]*rateRing)}
	t0 := time.Now()
	publish(3)
	r.sampleNow(t0)
	if s := r.queueStats(q); s.Publish != 3 || s.PublishDetails.Rate != 0 {
		t.Errorf("after one sample: %v", s)
	}
	publish(10)
	r.sampleNow(t0.Add(5 * time.Second))
	s := r.queueStats(q)
	if s.Publish != 13 || s.PublishDetails.Rate != 2 {
		t.Errorf("10 publishes in 5 s: %v", s)
	}
	if tot := r.totalStats(b.Stats()); tot.PublishDetails.Rate != 2 {
		t.Errorf("broker rate: %v", tot)
	}
	if _, err := v.QueueDelete(p, "r", broker.QueueDeleteOptions{}, 0); err != nil {
		t.Fatal(err)
	}
	r.sampleNow(t0.Add(10 * time.Second))
	if len(r.q) != 0 {
		t.Errorf("deleted queue still sampled: %d rings", len(r.q))
	}
}
