package mgmt

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// A channel's protocol state shows in /api/channels/{name} as RabbitMQ
// shows it: prefetch windows and confirm mode; a transaction's held
// publishes and acks; deliveries awaiting ack (with an out-of-order ack
// among them) and the consumer count.
func TestChannelState(t *testing.T) {
	tg := newAMQPTarget(t)
	c := tg.dial(t, "warren-chstate-"+tg.id)
	open := func() *amqp.Channel {
		ch, err := c.Channel()
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Channel 1: prefetch 7 per consumer, 3 for the channel, confirms.
	ch1 := open()
	must(ch1.Qos(7, 0, false))
	must(ch1.Qos(3, 0, true))
	must(ch1.Confirm(false))
	confirms := ch1.NotifyPublish(make(chan amqp.Confirmation, 4))
	q, err := ch1.QueueDeclare("", false, true, true, false, nil)
	must(err)
	must(ch1.Publish("", q.Name, false, false, amqp.Publishing{Body: []byte("c")}))
	select {
	case <-confirms:
	case <-time.After(30 * time.Second):
		t.Fatal("no confirm")
	}

	// Channel 2: a transaction holding two publishes and the acks of two
	// of its three deliveries (a single ack, then a multiple one over it).
	ch2 := open()
	var got []amqp.Delivery
	for i := range 3 {
		must(ch2.Publish("", q.Name, false, false, amqp.Publishing{Body: []byte(fmt.Sprint("t", i))}))
	}
	poll(t, "basic.get", func() bool {
		d, ok, err := ch2.Get(q.Name, false)
		must(err)
		if ok {
			got = append(got, d)
		}
		return len(got) == 3
	})
	must(ch2.Tx())
	must(ch2.Publish("", q.Name, false, false, amqp.Publishing{Body: []byte("1")}))
	must(ch2.Publish("", q.Name, false, false, amqp.Publishing{Body: []byte("2")}))
	must(got[0].Ack(false))
	must(got[1].Ack(true))

	// Channel 3: ten deliveries to a consumer, tags 3 and 5 acked out of
	// order, and one basic.get unacked.
	ch3 := open()
	q3, err := ch3.QueueDeclare("", false, true, true, false, nil)
	must(err)
	for i := range 11 {
		must(ch3.Publish("", q3.Name, false, false, amqp.Publishing{Body: []byte(fmt.Sprint(i))}))
	}
	poll(t, "basic.get on channel 3", func() bool {
		_, ok, err := ch3.Get(q3.Name, false)
		must(err)
		return ok
	})
	ds, err := ch3.Consume(q3.Name, "", false, false, false, false, nil)
	must(err)
	for range 10 {
		select {
		case d := <-ds:
			if d.DeliveryTag == 3 || d.DeliveryTag == 5 {
				must(d.Ack(false))
			}
		case <-time.After(30 * time.Second):
			t.Fatal("deliveries did not arrive")
		}
	}

	want := map[int]map[string]any{
		1: {"prefetch_count": 7.0, "global_prefetch_count": 3.0, "confirm": true, "transactional": false,
			"messages_unconfirmed": 0.0, "messages_unacknowledged": 0.0, "messages_uncommitted": 0.0, "acks_uncommitted": 0.0, "consumer_count": 0.0},
		2: {"prefetch_count": 0.0, "global_prefetch_count": 0.0, "confirm": false, "transactional": true,
			"messages_uncommitted": 2.0, "acks_uncommitted": 2.0, "messages_unacknowledged": 1.0, "consumer_count": 0.0},
		3: {"messages_unacknowledged": 9.0, "consumer_count": 1.0, "transactional": false, "confirm": false,
			"messages_uncommitted": 0.0, "acks_uncommitted": 0.0},
	}
	connName := ""
	poll(t, "connection listed", func() bool {
		for _, e := range decodeJSON(t, "connections", tg.guest(t, "GET", "/api/connections", "").body).([]any) {
			m := e.(map[string]any)
			if props, _ := m["client_properties"].(map[string]any); props["connection_name"] == "warren-chstate-"+tg.id {
				connName, _ = m["name"].(string)
				return true
			}
		}
		return false
	})
	for n, fields := range want {
		name := fmt.Sprintf("%s (%d)", connName, n)
		// RabbitMQ shows a channel's state with its next statistics emission.
		var last map[string]any
		ok := false
		deadline := time.Now().Add(30 * time.Second)
		for !ok && time.Now().Before(deadline) {
			last, _ = decodeJSON(t, "channel", tg.guest(t, "GET", "/api/channels/"+url.PathEscape(name), "").body).(map[string]any)
			ok = true
			for k, v := range fields {
				ok = ok && last[k] == v
			}
			if !ok {
				time.Sleep(100 * time.Millisecond)
			}
		}
		if !ok {
			t.Errorf("channel %d: got %v, want %v", n, last, fields)
		}
	}
	// The same state in Prometheus: summed on /metrics, per channel on
	// /metrics/detailed (Warren's; RabbitMQ labels channels by pid).
	if !tg.external {
		agg := getMetrics(t, tg.base+"/metrics")
		for name, want := range map[string]float64{"rabbitmq_channel_messages_unacked": 10, "rabbitmq_channel_messages_uncommitted": 2,
			"rabbitmq_channel_acks_uncommitted": 2, "rabbitmq_consumer_prefetch": 7, "rabbitmq_channel_prefetch": 3, "rabbitmq_channel_messages_unconfirmed": 0} {
			if got, ok := agg.series[name]; !ok || got != want || agg.types[name] != "gauge" {
				t.Errorf("/metrics %s = %v (%v, %s), want gauge %v", name, got, ok, agg.types[name], want)
			}
		}
		det := getMetrics(t, tg.base+"/metrics/detailed?family=channel_metrics")
		ch2 := `{channel="` + connName + ` (2)"}`
		if got := det.series["rabbitmq_detailed_channel_messages_uncommitted"+ch2]; got != 2 {
			t.Errorf("detailed uncommitted of channel 2 = %v, want 2", got)
		}
		if got := det.series["rabbitmq_detailed_channel_messages_unacked"+`{channel="`+connName+` (3)"}`]; got != 9 {
			t.Errorf("detailed unacked of channel 3 = %v, want 9", got)
		}
	}

	// The list carries the same fields.
	for _, e := range decodeJSON(t, "channels", tg.guest(t, "GET", "/api/channels", "").body).([]any) {
		m := e.(map[string]any)
		if m["name"] == connName+" (2)" && m["messages_uncommitted"] != 2.0 {
			t.Errorf("/api/channels: %v", m)
		}
	}
}
