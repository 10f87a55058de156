package broker

import (
	"fmt"
	"slices"
	"testing"

	"github.com/warrenmq/warren/frame"
)

// cpDeliverer takes as many deliveries as it has credit and records
// their message ids.
type cpDeliverer struct {
	credit  int
	got     []int
	tickets []Ticket
}

func (d *cpDeliverer) Reserve() bool {
	if d.credit == 0 {
		return false
	}
	d.credit--
	return true
}

func (d *cpDeliverer) Deliver(_ *Queue, _ *Consumer, t Ticket, m Delivery, _ any) {
	d.got = append(d.got, storeID(m.Body))
	d.tickets = append(d.tickets, t)
}

func (d *cpDeliverer) Cancelled(*Consumer) {}

func cpTestQueue(t *testing.T, args frame.Table) *Queue {
	t.Helper()
	v, _ := openTestBroker(t).VHost("/")
	q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "q", Args: args})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func cpSubscribe(t *testing.T, q *Queue, tag string, credit int, args map[string]any) (*Consumer, *cpDeliverer) {
	t.Helper()
	d := &cpDeliverer{credit: credit}
	c := &Consumer{Tag: tag, D: d, Args: args}
	if err := q.AddConsumer(c, nil); err != nil {
		t.Fatal(err)
	}
	return c, d
}

func cpPublish(t *testing.T, q *Queue, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		m := storeMsg(i, 16, false)
		if _, ok, err := q.publish(&m); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
}

// Consumers are ordered by priority, subscription order within one.
func TestConsumerPriorityOrder(t *testing.T) {
	q := cpTestQueue(t, nil)
	for i, p := range []int{0, 5, 5, 10, 0, -2} {
		cpSubscribe(t, q, fmt.Sprint(i), 0, map[string]any{"x-priority": int32(p)})
	}
	var tags []string
	for _, c := range q.consumers {
		tags = append(tags, c.Tag)
	}
	if want := []string{"3", "1", "2", "0", "4", "5"}; !slices.Equal(tags, want) {
		t.Fatalf("consumer order %v, want %v", tags, want)
	}
	if len(q.cgroups) != 4 {
		t.Fatalf("%d groups, want 4", len(q.cgroups))
	}
}

// The top priority takes messages while it has credit, round-robin among
// its consumers; the next one down gets the rest; the lowest nothing.
func TestConsumerPriorityDispatch(t *testing.T) {
	q := cpTestQueue(t, nil)
	_, low := cpSubscribe(t, q, "low", 10, nil)
	_, a := cpSubscribe(t, q, "a", 2, map[string]any{"x-priority": int32(5)})
	_, b := cpSubscribe(t, q, "b", 2, map[string]any{"x-priority": int64(5)})
	_, mid := cpSubscribe(t, q, "mid", 1, map[string]any{"x-priority": int8(1)})
	cpPublish(t, q, 0, 7)
	if !slices.Equal(a.got, []int{0, 2}) || !slices.Equal(b.got, []int{1, 3}) || !slices.Equal(mid.got, []int{4}) || !slices.Equal(low.got, []int{5, 6}) {
		t.Fatalf("a %v b %v mid %v low %v", a.got, b.got, mid.got, low.got)
	}
	// Credit back at the top: the next message goes there again.
	a.credit = 1
	q.Ack(a.tickets...)
	cpPublish(t, q, 7, 1)
	if !slices.Equal(a.got, []int{0, 2, 7}) || len(low.got) != 2 {
		t.Fatalf("after credit: a %v low %v", a.got, low.got)
	}
}

// A single-active-consumer queue serves its first subscriber only, whatever
// the priorities; when that one goes, the next in subscription order takes
// over once the caller dispatches.
func TestSingleActiveConsumerDispatch(t *testing.T) {
	q := cpTestQueue(t, frame.Table{"x-single-active-consumer": true})
	first, x := cpSubscribe(t, q, "x", 1, nil)
	_, y := cpSubscribe(t, q, "y", 10, map[string]any{"x-priority": int32(9)})
	_, z := cpSubscribe(t, q, "z", 10, nil)
	cpPublish(t, q, 0, 3)
	if !slices.Equal(x.got, []int{0}) || len(y.got) != 0 || len(z.got) != 0 {
		t.Fatalf("x %v y %v z %v", x.got, y.got, z.got)
	}
	q.RemoveConsumer(first)
	q.Requeue(x.tickets...)
	if !slices.Equal(y.got, []int{0, 1, 2}) || len(z.got) != 0 {
		t.Fatalf("after failover: y %v z %v, want y [0 1 2]", y.got, z.got)
	}
	if err := q.AddConsumer(&Consumer{Tag: "e", Exclusive: true, D: &cpDeliverer{}}, nil); err == nil {
		t.Fatal("exclusive consumer accepted on a single-active-consumer queue")
	}
}
