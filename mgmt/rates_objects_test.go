package mgmt

import (
	"testing"
	"time"

	"github.com/warrenmq/warren/broker"
)

// A channel's message_stats carry *_details rates and a connection its
// recv_oct/send_oct rates, over the last sampling interval; a closed
// connection's and channel's readings are forgotten at the next round.
func TestRatesPerConnectionAndChannel(t *testing.T) {
	b, err := broker.Open(broker.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var conn broker.ConnEntry
	b.Registry().Add(&conn, broker.ConnInfo{ID: 1, User: "guest", VHost: "/"}, func(string) {})
	var ch broker.ChannelEntry
	conn.AddChannel(&ch, 1)

	r := &rates{b: b, q: make(map[*broker.Queue]*rateRing)}
	t0 := time.Now()
	r.sampleNow(t0)
	if m := r.channelStats(&ch); m["publish_details"].(map[string]any)["rate"] != 0.0 {
		t.Errorf("rate after one sample: %v", m)
	}
	for range 20 {
		ch.CountPublish(false, false, true)
	}
	ch.Acked.Add(10)
	conn.BytesIn.Add(5000)
	conn.BytesOut.Add(1000)
	r.sampleNow(t0.Add(5 * time.Second))
	m := r.channelStats(&ch)
	if m["publish"] != uint64(20) || m["publish_details"].(map[string]any)["rate"] != 4.0 || m["ack_details"].(map[string]any)["rate"] != 2.0 {
		t.Errorf("20 publishes and 10 acks in 5 s: %v", m)
	}
	for _, k := range channelStatNames {
		if _, ok := m[k+"_details"]; !ok {
			t.Errorf("no %s_details", k)
		}
	}
	if recv, send := r.connRates(&conn); recv != 1000 || send != 200 {
		t.Errorf("connection rates %v %v, want 1000 200", recv, send)
	}
	b.Registry().Remove(&conn)
	r.sampleNow(t0.Add(10 * time.Second))
	if len(r.conns) != 0 || len(r.chans) != 0 {
		t.Errorf("closed connection still sampled: %d conns, %d channels", len(r.conns), len(r.chans))
	}
}
