package broker

import (
	"fmt"
	"slices"
	"testing"
)

// noAckRecorder is a no-ack consumer that can be told to refuse credit.
type noAckRecorder struct {
	ok     bool
	bodies []string
}

func (d *noAckRecorder) Reserve() bool { return d.ok }
func (d *noAckRecorder) Deliver(_ *Queue, _ *Consumer, _ Ticket, dl Delivery, _ any) {
	d.bodies = append(d.bodies, string(dl.Body))
}
func (d *noAckRecorder) Cancelled(*Consumer) {}

// A transient message that finds its queue empty and a no-ack consumer
// able to take it goes straight to the consumer and is never written to
// the queue's log; one that finds a message ready is stored behind it and
// delivered in order.
func TestPassToNoAckConsumerSkipsStore(t *testing.T) {
	br := openTestBroker(t)
	v, _ := br.VHost("/")
	q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "pass", Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	d := &noAckRecorder{ok: true}
	if err := q.AddConsumer(&Consumer{Tag: "c", NoAck: true, D: d}, nil); err != nil {
		t.Fatal(err)
	}
	pub := func(body string) {
		t.Helper()
		m := Message{RoutingKey: []byte("pass"), Props: []byte{0, 0}, Body: []byte(body)}
		var cache PublishCache
		if res, _, err := v.Publish(guest, &m, &cache, nil); err != nil || res.Routed != 1 {
			t.Fatal(res, err)
		}
	}
	logUsed := func() uint32 {
		q.mu.Lock()
		defer q.mu.Unlock()
		cs, ok := q.st.(*classicStore)
		if !ok {
			return 0 // never opened: nothing stored
		}
		_, used, _ := cs.log.Head()
		return used
	}
	pub("a")
	if !slices.Equal(d.bodies, []string{"a"}) {
		t.Fatalf("delivered %q, want [a]", d.bodies)
	}
	if u := logUsed(); u != 0 {
		t.Fatalf("the passed message was stored: log head used %d", u)
	}
	d.ok = false
	pub("b") // no credit: stored
	if u := logUsed(); u == 0 || q.Ready() != 1 {
		t.Fatalf("message without credit not stored: used %d, ready %d", u, q.Ready())
	}
	d.ok = true
	pub("c") // must not pass b
	if !slices.Equal(d.bodies, []string{"a", "b", "c"}) {
		t.Fatalf("delivered %q, want [a b c]", d.bodies)
	}
	if q.Published.Load() != 3 || q.Delivered.Load() != 3 || q.Ready() != 0 {
		t.Fatalf("published %d delivered %d ready %d, want 3 3 0", q.Published.Load(), q.Delivered.Load(), q.Ready())
	}
}

// A persistent message to a durable queue is stored even for a no-ack
// consumer of an empty queue: the store is what makes it persistent.
func TestPassKeepsPersistentOnDurableStored(t *testing.T) {
	br := openTestBroker(t)
	v, _ := br.VHost("/")
	q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "keep", Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	d := &noAckRecorder{ok: true}
	if err := q.AddConsumer(&Consumer{Tag: "c", NoAck: true, D: d}, nil); err != nil {
		t.Fatal(err)
	}
	m := Message{RoutingKey: []byte("keep"), Props: []byte{0, 0}, Body: []byte("p"), Persistent: true}
	var cache PublishCache
	if res, _, err := v.Publish(guest, &m, &cache, nil); err != nil || res.Routed != 1 {
		t.Fatal(res, err)
	}
	q.mu.Lock()
	_, used, ok := q.st.(*classicStore).log.Head()
	q.mu.Unlock()
	if !ok || used == 0 || !slices.Equal(d.bodies, []string{"p"}) {
		t.Fatalf("persistent message: stored %v (used %d), delivered %q", ok, used, d.bodies)
	}
}

// BenchmarkQueuePass: the broker's share of a publish passed straight to a
// waiting no-ack consumer (queue_pass.go).
func BenchmarkQueuePass(b *testing.B) {
	for _, size := range []int{16, 1024} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			br := openTestBroker(b)
			v, _ := br.VHost("/")
			q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			d := &countingNoAck{}
			if err := q.AddConsumer(&Consumer{Tag: "c", NoAck: true, D: d}, nil); err != nil {
				b.Fatal(err)
			}
			m := Message{RoutingKey: []byte("bench"), Props: []byte{0, 0}, Body: make([]byte, size)}
			var cache PublishCache
			var scratch []*Queue
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				var res PublishResult
				res, scratch, err = v.Publish(guest, &m, &cache, scratch)
				if err != nil || res.Routed != 1 {
					b.Fatal(res, err)
				}
			}
			if d.n != b.N {
				b.Fatalf("%d delivered of %d", d.n, b.N)
			}
		})
	}
}

type countingNoAck struct{ n int }

func (d *countingNoAck) Reserve() bool                                    { return true }
func (d *countingNoAck) Deliver(*Queue, *Consumer, Ticket, Delivery, any) { d.n++ }
func (d *countingNoAck) Cancelled(*Consumer)                              {}
