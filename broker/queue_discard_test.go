package broker

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// ackRecorder is an acking consumer that can be told to refuse credit; it
// keeps its tickets for the test to ack or requeue.
type ackRecorder struct {
	ok      bool
	bodies  []string
	tickets []Ticket
}

func (d *ackRecorder) Reserve() bool { return d.ok }
func (d *ackRecorder) Deliver(_ *Queue, _ *Consumer, t Ticket, dl Delivery, _ any) {
	d.bodies = append(d.bodies, string(dl.Body))
	d.tickets = append(d.tickets, t)
}
func (d *ackRecorder) Cancelled(*Consumer) {}

// segmentBytes is everything in the queue's segment files.
func segmentBytes(t *testing.T, q *Queue) []byte {
	t.Helper()
	q.mu.Lock()
	dir := q.st.(*classicStore).dir
	q.mu.Unlock()
	files, _ := filepath.Glob(filepath.Join(dir, "seg.*"))
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// A no-ack consumer of a transient queue that keeps falling a few hundred
// messages behind: every message arrives once and in order, and what it
// took from the staging buffer was never written to the file
// (segment/discard.go).
func TestShortBacklogNotWritten(t *testing.T) {
	br := openTestBroker(t)
	v, _ := br.VHost("/")
	q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "short"})
	if err != nil {
		t.Fatal(err)
	}
	d := &noAckRecorder{}
	if err := q.AddConsumer(&Consumer{Tag: "c", NoAck: true, D: d}, nil); err != nil {
		t.Fatal(err)
	}
	var cache PublishCache
	body := func(i int) []byte {
		b := bytes.Repeat([]byte{'x'}, 1000)
		copy(b, fmt.Sprintf("m%06d.", i))
		return b
	}
	n := 0
	for round := range 40 {
		d.ok = false // behind: the next ones are stored
		for range 50 + round*5 {
			m := Message{RoutingKey: []byte("short"), Props: []byte{0, 0}, Body: body(n)}
			if res, _, err := v.Publish(guest, &m, &cache, nil); err != nil || res.Routed != 1 {
				t.Fatal(res, err)
			}
			n++
		}
		d.ok = true
		q.Dispatch()
	}
	if len(d.bodies) != n {
		t.Fatalf("delivered %d of %d", len(d.bodies), n)
	}
	for i, b := range d.bodies {
		if b != string(body(i)) {
			t.Fatalf("delivery %d is %.8q", i, b)
		}
	}
	// ~1.5 MB went through the queue; before segment/discard.go all of it
	// but the last buffer was written.
	if w := bytes.Count(segmentBytes(t, q), []byte(".xxxxxxxx")); w > n/10 {
		t.Fatalf("%d of %d messages were written to the segment files", w, n)
	}
}

// An acking consumer of a transient queue with a short backlog: a message
// still in flight (unacked, then requeued) is never dropped with the done
// ones around it, and comes back intact.
func TestShortBacklogKeepsInFlight(t *testing.T) {
	br := openTestBroker(t)
	v, _ := br.VHost("/")
	q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "inflight"})
	if err != nil {
		t.Fatal(err)
	}
	d := &ackRecorder{}
	if err := q.AddConsumer(&Consumer{Tag: "c", D: d}, nil); err != nil {
		t.Fatal(err)
	}
	var cache PublishCache
	body := func(i int) []byte {
		b := bytes.Repeat([]byte{'y'}, 1000)
		copy(b, fmt.Sprintf("m%06d.", i))
		return b
	}
	var held []Ticket // every 7th delivery, held unacked across buffer fills
	var heldBodies []string
	n := 0
	for range 30 {
		d.ok = false
		for range 60 {
			m := Message{RoutingKey: []byte("inflight"), Props: []byte{0, 0}, Body: body(n)}
			if res, _, err := v.Publish(guest, &m, &cache, nil); err != nil || res.Routed != 1 {
				t.Fatal(res, err)
			}
			n++
		}
		d.ok = true
		q.Dispatch()
		for i, tk := range d.tickets {
			if len(d.bodies[i])%7 == 0 || (len(heldBodies)+i)%7 == 0 {
				held = append(held, tk)
				heldBodies = append(heldBodies, d.bodies[i])
				continue
			}
			q.Ack(tk)
		}
		d.tickets, d.bodies = d.tickets[:0], d.bodies[:0]
	}
	d.ok = false
	q.Requeue(held...)
	d.ok = true
	q.Dispatch()
	if len(d.bodies) != len(held) {
		t.Fatalf("redelivered %d of %d", len(d.bodies), len(held))
	}
	for i, b := range d.bodies {
		if b != heldBodies[i] {
			t.Fatalf("redelivery %d is %.8q, want %.8q", i, b, heldBodies[i])
		}
	}
	q.Ack(d.tickets...)
}

// BenchmarkQueueShortBacklog: the broker's share of a 1 KiB message on a
// transient queue whose no-ack consumer is 64 messages behind: stored,
// then dispatched from the staging buffer when it has credit again (the
// state issue 19's case 2 spends its time in while the consumer catches
// up). Against BenchmarkQueuePass (the empty queue).
func BenchmarkQueueShortBacklog(b *testing.B) {
	for _, size := range []int{16, 1024} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			br := openTestBroker(b)
			v, _ := br.VHost("/")
			q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			d := &gatedNoAck{}
			if err := q.AddConsumer(&Consumer{Tag: "c", NoAck: true, D: d}, nil); err != nil {
				b.Fatal(err)
			}
			m := Message{RoutingKey: []byte("bench"), Props: []byte{0, 0}, Body: make([]byte, size)}
			var cache PublishCache
			var scratch []*Queue
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				var res PublishResult
				res, scratch, err = v.Publish(guest, &m, &cache, scratch)
				if err != nil || res.Routed != 1 {
					b.Fatal(res, err)
				}
				if i%64 == 63 {
					d.ok = true
					q.Dispatch()
					d.ok = false
				}
			}
			b.StopTimer()
			d.ok = true
			q.Dispatch()
			if d.n != b.N {
				b.Fatalf("%d delivered of %d", d.n, b.N)
			}
		})
	}
}

type gatedNoAck struct {
	ok bool
	n  int
}

func (d *gatedNoAck) Reserve() bool                                    { return d.ok }
func (d *gatedNoAck) Deliver(*Queue, *Consumer, Ticket, Delivery, any) { d.n++ }
func (d *gatedNoAck) Cancelled(*Consumer)                              {}
