package mgmt

import (
	"net/url"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// The overview's and a channel's message_stats count confirms,
// deliveries with and without acks, empty gets and unroutable publishes,
// and the overview's confirm rate follows (runnable against RabbitMQ with
// WARREN_MGMT_URL, where other clients may add to the counts).
func TestConfirmAndChannelCounters(t *testing.T) {
	tg := newAMQPTarget(t)
	stat := func(m map[string]any, k string) float64 {
		s, _ := m["message_stats"].(map[string]any)
		n, _ := s[k].(float64)
		return n
	}
	before := object(t, tg.target, "/api/overview")
	c := tg.dial(t, "confirms-"+tg.id)
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q := "confirms-" + tg.id
	if _, err := ch.QueueDeclare(q, false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.guest(t, "DELETE", "/api/queues/%2F/"+q, "") })
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	acks := ch.NotifyPublish(make(chan amqp.Confirmation, 16))
	for i := 0; i < 5; i++ {
		if err := ch.Publish("", q, false, false, amqp.Publishing{Body: []byte("m")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ch.Publish("", "no-such-queue-"+tg.id, false, false, amqp.Publishing{Body: []byte("lost")}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		select {
		case a := <-acks:
			if !a.Ack {
				t.Fatalf("nack %v", a)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("no confirm")
		}
	}
	if _, ok, err := ch.Get(q, true); err != nil || !ok {
		t.Fatalf("get: %v %v", ok, err)
	}
	if _, err := ch.QueuePurge(q, false); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ch.Get(q, true); err != nil || ok {
		t.Fatalf("get of an empty queue: %v %v", ok, err)
	}
	// RabbitMQ's overview totals include other clients' and lag behind
	// under load: checked in-process only.
	if !tg.external {
		poll(t, "the overview's counters", func() bool {
			now := object(t, tg.target, "/api/overview")
			d := func(k string) float64 { return stat(now, k) - stat(before, k) }
			return d("confirm") == 6 && d("drop_unroutable") == 1 && d("get_empty") == 1 && d("deliver_no_ack") == 0
		})
	}
	var row map[string]any
	poll(t, "the channel's counters", func() bool {
		for _, r := range decodeJSON(t, "channels", tg.guest(t, "GET", "/api/channels", "").body).([]any) {
			m := r.(map[string]any)
			if cd, _ := m["connection_details"].(map[string]any); cd != nil && cd["name"] != nil {
				conn := object(t, tg.target, "/api/connections/"+url.PathEscape(cd["name"].(string)))
				if props, _ := conn["client_properties"].(map[string]any); props["connection_name"] == "confirms-"+tg.id {
					row = m
				}
			}
		}
		return row != nil && stat(row, "confirm") == 6 && stat(row, "publish") == 6 && stat(row, "get_no_ack") == 1 &&
			(tg.external || stat(row, "get_empty") == 1) // RabbitMQ 3.10 leaves a channel's get_empty at 0
	})
	if tg.external {
		return
	}
	poll(t, "the confirm rate", func() bool {
		o := object(t, tg.target, "/api/overview")
		s, _ := o["message_stats"].(map[string]any)
		d, _ := s["confirm_details"].(map[string]any)
		r, _ := d["rate"].(float64)
		return r > 0
	})
}
