package mgmt

import (
	"net/http"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// An exchange's message_stats count what was published to it (publish_in)
// and the copies it put into queues (publish_out), with their rates; an
// exchange nothing was published to has no message_stats, as in RabbitMQ.
func TestExchangeMessageStats(t *testing.T) {
	tg := newAMQPTarget(t)
	x, q1, q2 := "warren-xs-"+tg.id, "warren-xs-q1-"+tg.id, "warren-xs-q2-"+tg.id
	for _, p := range []string{"/api/exchanges/%2F/" + x, "/api/queues/%2F/" + q1, "/api/queues/%2F/" + q2} {
		tg.deleteAtEnd(t, p)
	}
	ch, err := tg.dial(t, "warren-xs-"+tg.id).Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare(x, "fanout", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{q1, q2} {
		if _, err := ch.QueueDeclare(q, false, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
		if err := ch.QueueBind(q, "", x, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	path := "/api/exchanges/%2F/" + x
	idle := tg.guest(t, "GET", path, "")
	if idle.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, idle.status, idle.body)
	}
	if got := decodeJSON(t, path, idle.body).(map[string]any); got["message_stats"] != nil {
		t.Fatalf("an exchange nothing was published to has message_stats %v", got["message_stats"])
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		dc, err := ch.PublishWithDeferredConfirm(x, "", false, false, amqp.Publishing{Body: []byte("m")})
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := dc.WaitContext(t.Context()); !ok || err != nil {
			t.Fatalf("confirm: %v %v", ok, err)
		}
	}
	var st map[string]any
	poll(t, "publish_in 3 and publish_out 6", func() bool {
		got := decodeJSON(t, path, tg.guest(t, "GET", path, "").body).(map[string]any)
		st, _ = got["message_stats"].(map[string]any)
		return st != nil && st["publish_in"] == 3.0 && st["publish_out"] == 6.0
	})
	for _, k := range []string{"publish_in_details", "publish_out_details"} {
		if d, ok := st[k].(map[string]any); !ok || d["rate"] == nil {
			t.Errorf("message_stats %s = %v, want a rate", k, st[k])
		}
	}
	list := decodeJSON(t, "/api/exchanges/%2F", tg.guest(t, "GET", "/api/exchanges/%2F", "").body).([]any)
	for _, e := range list {
		if m := e.(map[string]any); m["name"] == x && m["message_stats"] == nil {
			t.Errorf("the list's %s has no message_stats", x)
		}
	}
}
