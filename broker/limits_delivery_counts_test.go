package broker

import (
	"testing"
	"time"

	"github.com/warrenmq/warren/frame"
)

// A durable quorum queue's delivery count survives a restart: a message
// requeued twice, then the broker restarted, is redelivered with
// x-delivery-count 2 and counts on from there towards the limit; a message
// never requeued has no count.
func TestQuorumDeliveryCountSurvivesRestart(t *testing.T) {
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	args := frame.Table{"x-queue-type": "quorum", "x-delivery-limit": int32(3), "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dlq"}
	if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "dlq", Durable: true}); err != nil {
		t.Fatal(err)
	}
	q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "qq", Durable: true, Args: args})
	if err != nil {
		t.Fatal(err)
	}
	persistent := frame.AppendProperties(nil, &frame.Properties{DeliveryMode: 2})
	for _, body := range []string{"counted", "fresh"} {
		m := Message{RoutingKey: []byte("qq"), Props: persistent, Body: []byte(body), Persistent: true}
		if _, _, err := v.Publish(guest, &m, &PublishCache{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	count := func(d Delivery) int64 {
		h, _ := frame.PropsHeaders(d.Props)
		n, _ := intArg(h["x-delivery-count"])
		return n
	}
	get := func(q *Queue) (Ticket, string, int64) {
		t.Helper()
		var tk Ticket
		var body string
		var n int64
		if !q.Get(false, func(t Ticket, d Delivery, _ int) { tk, body, n = t, string(d.Body), count(d) }) {
			t.Fatal("queue empty")
		}
		return tk, body, n
	}
	for want := int64(0); want < 2; want++ {
		tk, body, n := get(q)
		if body != "counted" || n != want {
			t.Fatalf("got %q with x-delivery-count %d, want counted with %d", body, n, want)
		}
		q.Requeue(tk)
	}

	b = reopen(t, b)
	v, _ = b.VHost("/")
	q, err = v.Queue(guest, "qq", 0)
	if err != nil {
		t.Fatal(err)
	}
	tk, body, n := get(q)
	if body != "counted" || n != 2 {
		t.Fatalf("after the restart: %q with x-delivery-count %d, want counted with 2", body, n)
	}
	ftk, fbody, fn := get(q)
	if fbody != "fresh" || fn != 0 {
		t.Fatalf("after the restart: %q with x-delivery-count %d, want fresh with 0", fbody, fn)
	}
	q.Requeue(tk) // the third return: at the limit, requeued
	tk, _, n = get(q)
	if n != 3 {
		t.Fatalf("x-delivery-count %d after the third return, want 3", n)
	}
	q.Requeue(tk) // the fourth: past the limit of 3, dead lettered
	q.Ack(ftk)
	dlq, err := v.Queue(guest, "dlq", 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; dlq.Ready() != 1; i++ {
		if i > 3000 {
			t.Fatalf("dlq holds %d, want the message past its delivery limit", dlq.Ready())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
