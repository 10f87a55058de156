package mgmt

import "testing"

// A consumer's prefetch_count is the basic.qos window it consumed under
// (rabbitmqadmin's list consumers shows it), 0 for unlimited (runnable
// against RabbitMQ with WARREN_MGMT_URL).
func TestConsumerPrefetchCount(t *testing.T) {
	tg := newAMQPTarget(t)
	c := tg.dial(t, "prefetch-"+tg.id)
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q := "prefetch-" + tg.id
	if _, err := ch.QueueDeclare(q, false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.guest(t, "DELETE", "/api/queues/%2F/"+q, "") })
	if _, err := ch.Consume(q, "unlimited", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.Qos(7, 0, false); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Consume(q, "seven", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	poll(t, "the consumers' prefetch counts", func() bool {
		got := map[string]any{}
		for _, r := range decodeJSON(t, "consumers", tg.guest(t, "GET", "/api/consumers/%2F", "").body).([]any) {
			m := r.(map[string]any)
			if qd, _ := m["queue"].(map[string]any); qd["name"] == q {
				got[m["consumer_tag"].(string)] = m["prefetch_count"]
			}
		}
		return got["unlimited"] == 0.0 && got["seven"] == 7.0
	})
}
