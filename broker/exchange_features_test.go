package broker

import (
	"testing"

	"github.com/warrenmq/warren/frame"
)

// Alternate exchanges and consistent-hash settings are read from the
// arguments again when durable exchanges come back after a restart.
func TestExchangeFeaturesSurviveRestart(t *testing.T) {
	must := mustOK(t)
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	_, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "aeq", Durable: true})
	must(err)
	must(v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "ae", Type: "fanout", Durable: true}))
	must(v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "x", Type: "direct", Durable: true, Args: frame.Table{"alternate-exchange": "ae"}}))
	must(v.QueueBind(guest, Binding{Source: "ae", Destination: "aeq"}, 0))
	must(v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "h", Type: "x-consistent-hash", Durable: true, Args: frame.Table{"hash-header": "k"}}))
	for _, q := range []string{"h1", "h2"} {
		_, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: q, Durable: true})
		must(err)
		must(v.QueueBind(guest, Binding{Source: "h", Destination: q, Key: "5"}, 0))
	}
	b = reopen(t, b)
	v, _ = b.VHost("/")
	if n := routed(t, v, "x", "nowhere"); n != 1 {
		t.Fatalf("unroutable message on x reached %d queues after restart, want the alternate's one", n)
	}
	// hash-header: messages without the header all hash alike, so the
	// routing key must not spread them.
	var got *Queue
	for i := range 50 {
		m := Message{Exchange: []byte("h"), RoutingKey: []byte{byte(i)}, Props: []byte{0, 0}, Body: []byte("x")}
		_, qs, err := v.Publish(guest, &m, &PublishCache{}, nil)
		must(err)
		if len(qs) != 1 || (got != nil && qs[0] != got) {
			t.Fatalf("message %d routed to %v, want the one queue all header-less messages hash to", i, qs)
		}
		got = qs[0]
	}
}

// Messages with headers but no CC/BCC, and consistent-hash routing on a
// header, cost no more allocations than a plain publish.
func TestPublishExtensionsAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	must := mustOK(t)
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	_, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "q"})
	must(err)
	must(v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "d", Type: "direct"}))
	must(v.QueueBind(guest, Binding{Source: "d", Destination: "q", Key: "k"}, 0))
	must(v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "h", Type: "x-consistent-hash", Args: frame.Table{"hash-header": "id"}}))
	must(v.QueueBind(guest, Binding{Source: "h", Destination: "q", Key: "10"}, 0))
	headers := frame.AppendProperties(nil, &frame.Properties{Headers: frame.Table{"id": "order-1", "a": int32(1)}, ReplyTo: "r"})
	measure := func(exchange string, props []byte) float64 {
		m := Message{Exchange: []byte(exchange), RoutingKey: []byte("k"), Props: props, Body: []byte("body")}
		var c PublishCache
		scratch := make([]*Queue, 0, 4)
		for range 1000 { // warm up: store buffers, pools
			_, scratch, _ = v.Publish(guest, &m, &c, scratch)
		}
		return testing.AllocsPerRun(2000, func() { _, scratch, _ = v.Publish(guest, &m, &c, scratch) })
	}
	base := measure("d", []byte{0, 0})
	t.Logf("plain publish: %v allocations", base)
	for _, tc := range []struct{ exchange, what string }{{"d", "headers without CC/BCC"}, {"h", "consistent hash on a header"}} {
		if n := measure(tc.exchange, headers); n > base {
			t.Errorf("%s: %v allocations per publish, plain publish %v", tc.what, n, base)
		}
	}
}
