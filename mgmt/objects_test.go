package mgmt

// HTTP tests of the queue, exchange, binding and message resources; with
// WARREN_MGMT_URL they run against RabbitMQ (its counts lag by up to its
// statistics interval, so counts are polled).

import (
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func (tg *target) deleteAtEnd(t *testing.T, path string) {
	t.Cleanup(func() { tg.guest(t, "DELETE", path, "") })
}

func object(t *testing.T, tg *target, path string) map[string]any {
	t.Helper()
	got := tg.guest(t, "GET", path, "")
	if got.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, got.status, got.body)
	}
	return decodeJSON(t, path, got.body).(map[string]any)
}

// Declare a queue and an exchange, bind them (Location names the
// binding), publish through the exchange, peek with requeue, take,
// purge, unbind by properties_key, delete with if-unused/if-empty.
func TestQueueExchangeBindingMessages(t *testing.T) {
	tg := newTarget(t, nil)
	q, x := "warren-q-"+tg.id, "warren-x-"+tg.id
	qp, xp := "/api/queues/%2F/"+q, "/api/exchanges/%2F/"+x
	tg.deleteAtEnd(t, qp)
	tg.deleteAtEnd(t, xp)

	expect(t, "queue create", tg.guest(t, "PUT", qp, `{"durable":true,"arguments":{"x-max-length":10}}`), http.StatusCreated, "")
	expect(t, "queue redeclare", tg.guest(t, "PUT", qp, `{"durable":true,"arguments":{"x-max-length":10}}`), http.StatusNoContent, "")
	expect(t, "queue inequivalent", tg.guest(t, "PUT", qp, `{"durable":false}`), http.StatusBadRequest,
		`{"error":"bad_request","reason":"inequivalent arg 'durable' for queue '`+q+`' in vhost '/': received 'false' but current is 'true'"}`)
	expect(t, "queue bad boolean", tg.guest(t, "PUT", qp, `{"durable":"yes"}`), http.StatusBadRequest, `{"error":"bad_request","reason":["not_boolean","yes"]}`)
	expect(t, "queue in missing vhost", tg.guest(t, "PUT", "/api/queues/no-such-"+tg.id+"/q", `{}`), http.StatusNotFound, `{"error":"not_found","reason":"vhost_not_found"}`)
	qo := object(t, tg, qp)
	want := map[string]any{"name": q, "vhost": "/", "durable": true, "auto_delete": false, "exclusive": false,
		"arguments": map[string]any{"x-max-length": 10.0}, "type": "classic"}
	for k, v := range want {
		if !reflect.DeepEqual(qo[k], v) {
			t.Errorf("queue %s = %#v, want %#v", k, qo[k], v)
		}
	}
	if _, ok := qo["node"].(string); !ok {
		t.Errorf("queue node = %#v", qo["node"])
	}

	expect(t, "exchange create", tg.guest(t, "PUT", xp, `{"type":"fanout"}`), http.StatusCreated, "")
	expect(t, "exchange bad type", tg.guest(t, "PUT", xp+"-2", `{"type":"nope"}`), http.StatusBadRequest, `{"error":"bad_request","reason":"invalid exchange type 'nope'"}`)
	expect(t, "exchange inequivalent", tg.guest(t, "PUT", xp, `{"type":"direct"}`), http.StatusBadRequest,
		`{"error":"bad_request","reason":"inequivalent arg 'type' for exchange '`+x+`' in vhost '/': received 'direct' but current is 'fanout'"}`)
	xo := object(t, tg, xp)
	for k, v := range map[string]any{"name": x, "vhost": "/", "type": "fanout", "durable": false, "auto_delete": false, "internal": false, "arguments": map[string]any{}, "incoming": []any{}, "outgoing": []any{}} {
		if !reflect.DeepEqual(xo[k], v) {
			t.Errorf("exchange %s = %#v, want %#v", k, xo[k], v)
		}
	}
	expect(t, "delete amq.direct", tg.guest(t, "DELETE", "/api/exchanges/%2F/amq.direct", ""), http.StatusUnauthorized, `{"error":"not_authorised","reason":"Access refused."}`)

	bp := "/api/bindings/%2F/e/" + x + "/q/" + q
	created := tg.guest(t, "POST", bp, `{"routing_key":"k","arguments":{"a":1}}`)
	loc := created.header.Get("Location")
	if created.status != http.StatusCreated || !strings.HasPrefix(loc, q+"/k~") {
		t.Fatalf("binding create: %d Location %q", created.status, loc)
	}
	expect(t, "second binding", tg.guest(t, "POST", bp, `{"routing_key":"k2"}`), http.StatusCreated, "")
	list := decodeJSON(t, "bindings", tg.guest(t, "GET", bp, "").body).([]any)
	if len(list) != 2 {
		t.Fatalf("bindings between: %v", list)
	}
	b0 := list[0].(map[string]any)
	wantB := map[string]any{"source": x, "vhost": "/", "destination": q, "destination_type": "queue", "routing_key": "k", "arguments": map[string]any{"a": 1.0}, "properties_key": strings.TrimPrefix(loc, q+"/")}
	if !reflect.DeepEqual(b0, wantB) {
		t.Errorf("binding: %v, want %v", b0, wantB)
	}
	one := object(t, tg, bp+"/"+url.PathEscape(b0["properties_key"].(string)))
	if !reflect.DeepEqual(one, wantB) {
		t.Errorf("binding by properties_key: %v", one)
	}
	qb := decodeJSON(t, "queue bindings", tg.guest(t, "GET", qp+"/bindings", "").body).([]any)
	if len(qb) != 3 || qb[0].(map[string]any)["source"] != "" {
		t.Errorf("queue bindings (default first, then two): %v", qb)
	}
	src := decodeJSON(t, "source bindings", tg.guest(t, "GET", xp+"/bindings/source", "").body).([]any)
	if len(src) != 2 {
		t.Errorf("exchange source bindings: %v", src)
	}

	expect(t, "publish", tg.guest(t, "POST", xp+"/publish", `{"routing_key":"k","payload":"hello","payload_encoding":"string","properties":{"delivery_mode":2,"headers":{"h":1}}}`), http.StatusOK, `{"routed":true}`)
	expect(t, "publish base64", tg.guest(t, "POST", xp+"/publish", `{"routing_key":"k","payload":"/wA=","payload_encoding":"base64","properties":{}}`), http.StatusOK, `{"routed":true}`)
	expect(t, "publish missing keys", tg.guest(t, "POST", xp+"/publish", `{"routing_key":"k","payload":"x"}`), http.StatusBadRequest, `{"error":"bad_request","reason":"[{key_missing,properties},{key_missing,payload_encoding}]"}`)
	expect(t, "publish to missing exchange", tg.guest(t, "POST", "/api/exchanges/%2F/no-such-"+tg.id+"/publish", `{"routing_key":"k","payload":"x","payload_encoding":"string","properties":{}}`), http.StatusBadRequest,
		`{"error":"bad_request","reason":"404 NOT_FOUND - no exchange 'no-such-`+tg.id+`' in vhost '/'"}`)

	peek := `{"count":5,"ackmode":"ack_requeue_true","encoding":"auto","truncate":3}`
	got := tg.guest(t, "POST", qp+"/get", peek)
	msgs, _ := decodeJSON(t, "get", got.body).([]any)
	if got.status != http.StatusOK || len(msgs) != 2 {
		t.Fatalf("get: %d %s", got.status, got.body)
	}
	m0, m1 := msgs[0].(map[string]any), msgs[1].(map[string]any)
	wantM0 := map[string]any{"payload_bytes": 5.0, "redelivered": false, "exchange": x, "routing_key": "k", "message_count": 1.0,
		"properties": map[string]any{"delivery_mode": 2.0, "headers": map[string]any{"h": 1.0}}, "payload": "hel", "payload_encoding": "string"}
	if !reflect.DeepEqual(m0, wantM0) {
		t.Errorf("first message: %v, want %v", m0, wantM0)
	}
	if m1["payload"] != "/wA=" || m1["payload_encoding"] != "base64" || !reflect.DeepEqual(m1["properties"], []any{}) {
		t.Errorf("binary message without properties: %v", m1)
	}
	expect(t, "get missing keys", tg.guest(t, "POST", qp+"/get", `{"count":5}`), http.StatusBadRequest, `{"error":"bad_request","reason":"[{key_missing,ackmode},{key_missing,encoding}]"}`)
	again := decodeJSON(t, "get again", tg.guest(t, "POST", qp+"/get", `{"count":1,"ackmode":"ack_requeue_false","encoding":"base64"}`).body).([]any)
	if len(again) != 1 || again[0].(map[string]any)["redelivered"] != true || again[0].(map[string]any)["payload"] != "aGVsbG8=" {
		t.Errorf("take after requeue: %v", again)
	}
	// Two gets to put back, one without acknowledgement of a redelivered
	// message, no client ack (RabbitMQ's figures arrive with its next
	// statistics emission).
	poll(t, "queue message_stats get 2, get_no_ack 1, redeliver 1, ack 0", func() bool {
		ms, _ := object(t, tg, qp)["message_stats"].(map[string]any)
		return ms["get"] == 2.0 && ms["get_no_ack"] == 1.0 && ms["redeliver"] == 1.0 && ms["ack"] == 0.0 && ms["deliver_get"] == 3.0 && ms["publish"] == 2.0
	})
	expect(t, "delete if-empty", tg.guest(t, "DELETE", qp+"?if-empty=true", ""), http.StatusBadRequest,
		`{"error":"bad_request","reason":"queue '`+q+`' in vhost '/' not empty"}`)
	expect(t, "purge", tg.guest(t, "DELETE", qp+"/contents", ""), http.StatusNoContent, "")
	poll(t, "queue empty after purge", func() bool { return object(t, tg, qp)["messages"] == 0.0 })

	expect(t, "unbind", tg.guest(t, "DELETE", bp+"/"+url.PathEscape(b0["properties_key"].(string)), ""), http.StatusNoContent, "")
	expect(t, "unbind again", tg.guest(t, "DELETE", bp+"/"+url.PathEscape(b0["properties_key"].(string)), ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
	expect(t, "exchange delete if-unused", tg.guest(t, "DELETE", xp+"?if-unused=true", ""), http.StatusBadRequest, `{"error":"bad_request","reason":"exchange '`+x+`' in vhost '/' in use"}`)
	expect(t, "queue delete", tg.guest(t, "DELETE", qp+"?if-empty=true", ""), http.StatusNoContent, "")
	expect(t, "queue gone", tg.guest(t, "GET", qp, ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
	expect(t, "exchange delete", tg.guest(t, "DELETE", xp+"?if-unused=true", ""), http.StatusNoContent, "")
}

// Pagination, name filter, sort and columns over queue listings.
func TestQueueListPaging(t *testing.T) {
	tg := newTarget(t, nil)
	prefix := "warren-page-" + tg.id + "-"
	for _, n := range []string{"c", "a", "b"} {
		tg.deleteAtEnd(t, "/api/queues/%2F/"+prefix+n)
		expect(t, "create "+n, tg.guest(t, "PUT", "/api/queues/%2F/"+prefix+n, `{}`), http.StatusCreated, "")
	}
	path := "/api/queues/%2F?page=1&page_size=2&name=" + url.QueryEscape(strings.ToUpper(prefix)) + "&sort=name&sort_reverse=true&columns=name,vhost"
	got := tg.guest(t, "GET", path, "")
	page := decodeJSON(t, "page", got.body).(map[string]any)
	wantItems := []any{map[string]any{"name": prefix + "c", "vhost": "/"}, map[string]any{"name": prefix + "b", "vhost": "/"}}
	if got.status != http.StatusOK || page["filtered_count"] != 3.0 || page["item_count"] != 2.0 || page["page"] != 1.0 ||
		page["page_count"] != 2.0 || page["page_size"] != 2.0 || !reflect.DeepEqual(page["items"], wantItems) {
		t.Errorf("page: %d %s", got.status, got.body)
	}
	if tc, _ := page["total_count"].(float64); tc < 3 {
		t.Errorf("total_count %v", page["total_count"])
	}
	re := "/api/queues/%2F?page=2&page_size=2&use_regex=true&name=" + url.QueryEscape("^"+prefix+"[ab]$") + "&sort=name&columns=name"
	if p := decodeJSON(t, "regex page", tg.guest(t, "GET", re, "").body).(map[string]any); p["filtered_count"] != 2.0 || p["item_count"] != 0.0 || p["page_count"] != 1.0 || !reflect.DeepEqual(p["items"], []any{}) {
		t.Errorf("regex page 2 of 1 (just past the end: empty, as RabbitMQ): %v", p)
	}
	expect(t, "page out of range", tg.guest(t, "GET", "/api/queues/%2F?page=99&page_size=2&use_regex=true&name="+url.QueryEscape("^"+prefix), ""), http.StatusBadRequest,
		`{"error":"page_out_of_range","reason":"Page out of range, page: 99 page size: 2, len: 3"}`)
	expect(t, "page too large", tg.guest(t, "GET", "/api/queues?page=1&page_size=1000", ""), http.StatusBadRequest,
		`{"error":"invalid_pagination_parameters","reason":"Invalid pagination parameters: page number 1, page size 1000"}`)
	expect(t, "page not a number", tg.guest(t, "GET", "/api/queues?page=abc", ""), http.StatusBadRequest, `{"error":"bad_request","reason":"Pagination parameters are invalid"}`)
}

// Health checks and the aliveness test answer as on a healthy RabbitMQ.
func TestHealthChecks(t *testing.T) {
	tg := newAMQPTarget(t)
	for path, body := range map[string]string{
		"/api/health/checks/alarms":                  `{"status":"ok"}`,
		"/api/health/checks/local-alarms":            `{"status":"ok"}`,
		"/api/health/checks/virtual-hosts":           `{"status":"ok"}`,
		"/api/health/checks/node-is-quorum-critical": `{"reason":"single node cluster","status":"ok"}`,
		"/api/aliveness-test/%2F":                    `{"status":"ok"}`,
	} {
		got := tg.guest(t, "GET", path, "")
		if got.status != http.StatusOK || !reflect.DeepEqual(decodeJSON(t, path, got.body), decodeJSON(t, "want", body)) {
			t.Errorf("%s: %d %s, want %s", path, got.status, got.body, body)
		}
	}
	port := tg.amqpPort(t)
	got := tg.guest(t, "GET", "/api/health/checks/port-listener/"+itoa(port), "")
	if got.status != http.StatusOK || !reflect.DeepEqual(decodeJSON(t, "port", got.body), any(map[string]any{"status": "ok", "port": float64(port)})) {
		t.Errorf("port-listener %d: %d %s", port, got.status, got.body)
	}
	got = tg.guest(t, "GET", "/api/health/checks/port-listener/1", "")
	if m, _ := decodeJSON(t, "port 1", got.body).(map[string]any); got.status != http.StatusServiceUnavailable || m["status"] != "failed" || m["missing"] != 1.0 {
		t.Errorf("port-listener 1: %d %s", got.status, got.body)
	}
	expect(t, "aliveness of a missing vhost", tg.guest(t, "GET", "/api/aliveness-test/no-such-"+tg.id, ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
}

// vhosts, users and permissions list guest and / in RabbitMQ's shapes.
func TestAccessListings(t *testing.T) {
	tg := newTarget(t, nil)
	v := object(t, tg, "/api/vhosts/%2F")
	if v["name"] != "/" || v["description"] != "Default virtual host" || !reflect.DeepEqual(v["tags"], []any{}) || v["tracing"] != false {
		t.Errorf("vhost /: %v", v)
	}
	for _, k := range []string{"recv_oct", "send_oct"} {
		if _, ok := v[k].(float64); !ok {
			t.Errorf("vhost %s = %#v, want a number", k, v[k])
		}
	}
	if ms, _ := v["message_stats"].(map[string]any); ms == nil {
		t.Errorf("vhost message_stats = %#v", v["message_stats"])
	}
	u := object(t, tg, "/api/users/guest")
	if u["name"] != "guest" || u["hashing_algorithm"] != "rabbit_password_hashing_sha256" || !reflect.DeepEqual(u["tags"], []any{"administrator"}) || !reflect.DeepEqual(u["limits"], map[string]any{}) {
		t.Errorf("user guest: %v", u)
	}
	if h, _ := u["password_hash"].(string); len(h) != 48 { // base64 of 4 salt + 32 hash bytes
		t.Errorf("password_hash %q", h)
	}
	p := object(t, tg, "/api/permissions/%2F/guest")
	if !reflect.DeepEqual(p, map[string]any{"user": "guest", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}) {
		t.Errorf("permission: %v", p)
	}
	found := false
	for _, e := range decodeJSON(t, "permissions", tg.guest(t, "GET", "/api/permissions", "").body).([]any) {
		found = found || reflect.DeepEqual(e, any(p))
	}
	if !found {
		t.Error("guest on / not in /api/permissions")
	}
	expect(t, "missing user", tg.guest(t, "GET", "/api/users/no-such-"+tg.id, ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
	expect(t, "missing vhost", tg.guest(t, "GET", "/api/vhosts/no-such-"+tg.id, ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
}

func itoa(n int) string { return strconv.Itoa(n) }
