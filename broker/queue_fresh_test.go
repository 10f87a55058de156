package broker

import (
	"slices"
	"testing"
	"unsafe"

	"github.com/warrenmq/warren/frame"
)

// freshDeliverer records, per delivery, the message id, whether the body
// was the publisher's own buffer, and the ticket.
type freshDeliverer struct {
	cpDeliverer
	direct []bool
	bodies [][]byte
	pubBuf *byte // the body buffer of the publish in progress
}

func (d *freshDeliverer) Deliver(q *Queue, c *Consumer, t Ticket, m Delivery, o any) {
	d.cpDeliverer.Deliver(q, c, t, m, o)
	d.direct = append(d.direct, unsafe.SliceData(m.Body) == d.pubBuf)
	d.bodies = append(d.bodies, slices.Clone(m.Body))
}

// A publish to an empty queue with a consumer waiting is delivered from
// the publisher's buffer (no read-back); with a backlog, or after a
// requeue, messages come from the log in order, and the record the direct
// path skipped reading is intact.
func TestPublishDeliversFromPublishBuffer(t *testing.T) {
	q := cpTestQueue(t, nil)
	d := &freshDeliverer{}
	d.credit = 2
	if err := q.AddConsumer(&Consumer{Tag: "c", D: d}, nil); err != nil {
		t.Fatal(err)
	}
	pub := func(i int) {
		t.Helper()
		m := storeMsg(i, 64, false)
		d.pubBuf = unsafe.SliceData(m.Body)
		if _, ok, err := q.publish(&m); !ok || err != nil {
			t.Fatal(ok, err)
		}
		clear(m.Body) // the publisher reuses its buffer
		d.pubBuf = nil
	}
	pub(0) // the first publish opens the store (store_unopened.go)
	pub(1) // empty queue, credit: direct
	pub(2) // no credit: stored
	pub(3)
	d.credit = 3
	q.Dispatch() // 2, 3 from the log
	pub(4)       // empty again, credit left: direct
	q.Ack(d.tickets[0])
	d.got, d.direct, d.bodies, d.tickets = d.got[1:], d.direct[1:], d.bodies[1:], d.tickets[1:]
	if want := []int{1, 2, 3, 4}; !slices.Equal(d.got, want) {
		t.Fatalf("delivered %v, want %v", d.got, want)
	}
	if want := []bool{true, false, false, true}; !slices.Equal(d.direct, want) {
		t.Fatalf("delivered from the publish buffer: %v, want %v", d.direct, want)
	}
	// Requeue 1 and 4: they are read back from the log, whole.
	q.Requeue(d.tickets[0], d.tickets[3])
	d.credit = 2
	q.Dispatch()
	if want := []int{1, 2, 3, 4, 1, 4}; !slices.Equal(d.got, want) {
		t.Fatalf("delivered %v, want %v", d.got, want)
	}
	for i, id := range []int{1, 4} {
		want := storeMsg(id, 64, false).Body
		if got := d.bodies[4+i]; !slices.Equal(got, want) || d.direct[4+i] {
			t.Fatalf("requeued %d: body %q (direct %v), want %q from the log", id, got, d.direct[4+i], want)
		}
	}
	q.Ack(d.tickets[1], d.tickets[2], d.tickets[4], d.tickets[5])
	if n := q.st.readyCount(); n != 0 {
		t.Fatalf("%d ready after all were acked", n)
	}
}

// With a length limit or a TTL the publish takes the ordinary path (those
// drop or expire messages between the append and the dispatch).
func TestPublishFromBufferNotWithLimits(t *testing.T) {
	for name, args := range map[string]frame.Table{
		"max-length":  {"x-max-length": int32(10)},
		"message-ttl": {"x-message-ttl": int32(60000)},
	} {
		t.Run(name, func(t *testing.T) {
			q := cpTestQueue(t, args)
			d := &freshDeliverer{}
			d.credit = 5
			if err := q.AddConsumer(&Consumer{Tag: "c", D: d}, nil); err != nil {
				t.Fatal(err)
			}
			m := storeMsg(7, 32, false)
			d.pubBuf = unsafe.SliceData(m.Body)
			if _, ok, err := q.publish(&m); !ok || err != nil {
				t.Fatal(ok, err)
			}
			if !slices.Equal(d.got, []int{7}) || d.direct[0] {
				t.Fatalf("got %v direct %v", d.got, d.direct)
			}
		})
	}
}
