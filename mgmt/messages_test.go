package mgmt

import (
	"net/http"
	"testing"
)

// POST /api/queues/{vhost}/{name}/get with each ackmode on a queue with a
// dead-letter exchange: reject_requeue_false rejects what it got without
// requeue, so it is dead lettered (reason rejected), as RabbitMQ's
// basic.get then basic.reject does; ack_requeue_false takes without
// dead lettering; the two requeue modes put back, redelivered.
func TestGetAckModesDeadLetter(t *testing.T) {
	tg := newTarget(t, nil)
	src, dlq := "warren-get-src-"+tg.id, "warren-get-dlq-"+tg.id
	sp, dp := "/api/queues/%2F/"+src, "/api/queues/%2F/"+dlq
	tg.deleteAtEnd(t, sp)
	tg.deleteAtEnd(t, dp)
	expect(t, "dlq", tg.guest(t, "PUT", dp, `{"durable":false}`), http.StatusCreated, "")
	expect(t, "src", tg.guest(t, "PUT", sp, `{"durable":false,"arguments":{"x-dead-letter-exchange":"","x-dead-letter-routing-key":"`+dlq+`"}}`), http.StatusCreated, "")
	for _, body := range []string{"a", "b", "c"} {
		expect(t, "publish "+body, tg.guest(t, "POST", "/api/exchanges/%2F/amq.default/publish",
			`{"routing_key":"`+src+`","payload":"`+body+`","payload_encoding":"string","properties":{}}`), http.StatusOK, `{"routed":true}`)
	}
	get := func(path, mode string, count int) []any {
		t.Helper()
		r := tg.guest(t, "POST", path+"/get", `{"count":`+itoa(count)+`,"ackmode":"`+mode+`","encoding":"auto"}`)
		if r.status != http.StatusOK {
			t.Fatalf("get %s %s: %d %s", path, mode, r.status, r.body)
		}
		return decodeJSON(t, "get", r.body).([]any)
	}
	for _, mode := range []string{"ack_requeue_true", "reject_requeue_true"} {
		if got := get(sp, mode, 1); len(got) != 1 || got[0].(map[string]any)["payload"] != "a" {
			t.Fatalf("%s: %v", mode, got)
		}
	}
	poll(t, "src holds 3 after the requeue modes", func() bool { return object(t, tg, sp)["messages"] == 3.0 })

	if got := get(sp, "reject_requeue_false", 2); len(got) != 2 || got[0].(map[string]any)["redelivered"] != true {
		t.Fatalf("reject_requeue_false: %v", got)
	}
	poll(t, "2 dead lettered into dlq", func() bool { return object(t, tg, dp)["messages"] == 2.0 })
	if got := get(sp, "ack_requeue_false", 1); len(got) != 1 || got[0].(map[string]any)["payload"] != "c" {
		t.Fatalf("ack_requeue_false: %v", got)
	}
	poll(t, "src empty", func() bool { return object(t, tg, sp)["messages"] == 0.0 })

	dead := get(dp, "ack_requeue_false", 5)
	if len(dead) != 2 {
		t.Fatalf("dlq holds %d, want the 2 rejected (not the one taken with ack_requeue_false)", len(dead))
	}
	for i, want := range []string{"a", "b"} {
		m := dead[i].(map[string]any)
		props, _ := m["properties"].(map[string]any)
		headers, _ := props["headers"].(map[string]any)
		deaths, _ := headers["x-death"].([]any)
		if m["payload"] != want || len(deaths) != 1 {
			t.Fatalf("dead letter %d: %v", i, m)
		}
		d := deaths[0].(map[string]any)
		if d["reason"] != "rejected" || d["queue"] != src || d["count"] != 1.0 {
			t.Errorf("dead letter %d x-death: %v", i, d)
		}
	}
}
