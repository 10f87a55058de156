package mgmt

import (
	"net/http"
	"net/url"
	"testing"
)

// The exchange and binding lists as tools read them: /api/exchanges and
// its vhost's list, an exchange-to-exchange binding under the
// destination's bindings/destination and the source's bindings/source,
// /api/bindings and /api/bindings/{vhost}, and the e/e route's DELETE by
// properties_key.
func TestExchangeAndBindingLists(t *testing.T) {
	tg := newTarget(t, nil)
	x1, x2, q := "warren-bl-x1-"+tg.id, "warren-bl-x2-"+tg.id, "warren-bl-q-"+tg.id
	for _, p := range []string{"/api/exchanges/%2F/" + x1, "/api/exchanges/%2F/" + x2, "/api/queues/%2F/" + q} {
		tg.deleteAtEnd(t, p)
	}
	expect(t, "x1", tg.guest(t, "PUT", "/api/exchanges/%2F/"+x1, `{"type":"topic","durable":true}`), http.StatusCreated, "")
	expect(t, "x2", tg.guest(t, "PUT", "/api/exchanges/%2F/"+x2, `{"type":"fanout"}`), http.StatusCreated, "")
	expect(t, "q", tg.guest(t, "PUT", "/api/queues/%2F/"+q, `{}`), http.StatusCreated, "")
	ee := "/api/bindings/%2F/e/" + x1 + "/e/" + x2
	created := tg.guest(t, "POST", ee, `{"routing_key":"a.#"}`)
	if created.status != http.StatusCreated || created.header.Get("Location") == "" {
		t.Fatalf("e2e binding: %d %q", created.status, created.header.Get("Location"))
	}
	expect(t, "e2q binding", tg.guest(t, "POST", "/api/bindings/%2F/e/"+x1+"/q/"+q, `{"routing_key":"b"}`), http.StatusCreated, "")

	names := func(path string) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, e := range decodeJSON(t, path, tg.guest(t, "GET", path, "").body).([]any) {
			m := e.(map[string]any)
			out[m["name"].(string)] = m
		}
		return out
	}
	for _, path := range []string{"/api/exchanges", "/api/exchanges/%2F"} {
		got := names(path)
		if m := got[x1]; m == nil || m["type"] != "topic" || m["vhost"] != "/" || m["durable"] != true {
			t.Errorf("%s: x1 %v", path, m)
		}
		if m := got[x2]; m == nil || m["type"] != "fanout" {
			t.Errorf("%s: x2 %v", path, m)
		}
		if got["amq.topic"] == nil {
			t.Errorf("%s lacks amq.topic", path)
		}
	}

	dest := decodeJSON(t, "destination", tg.guest(t, "GET", "/api/exchanges/%2F/"+x2+"/bindings/destination", "").body).([]any)
	if len(dest) != 1 {
		t.Fatalf("x2's bindings/destination: %v", dest)
	}
	d := dest[0].(map[string]any)
	if d["source"] != x1 || d["destination"] != x2 || d["destination_type"] != "exchange" || d["routing_key"] != "a.#" || d["vhost"] != "/" {
		t.Errorf("e2e binding: %v", d)
	}
	if src := decodeJSON(t, "source", tg.guest(t, "GET", "/api/exchanges/%2F/"+x1+"/bindings/source", "").body).([]any); len(src) != 2 {
		t.Errorf("x1's bindings/source: %v", src)
	}
	if none := decodeJSON(t, "x1 dest", tg.guest(t, "GET", "/api/exchanges/%2F/"+x1+"/bindings/destination", "").body).([]any); len(none) != 0 {
		t.Errorf("x1's bindings/destination: %v", none)
	}
	for _, path := range []string{"/api/bindings", "/api/bindings/%2F"} {
		n := 0
		for _, e := range decodeJSON(t, path, tg.guest(t, "GET", path, "").body).([]any) {
			if m := e.(map[string]any); m["source"] == x1 {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%s: %d bindings from x1, want 2", path, n)
		}
	}
	expect(t, "missing vhost", tg.guest(t, "GET", "/api/bindings/no-such-vhost-"+tg.id, ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)

	expect(t, "delete e2e", tg.guest(t, "DELETE", ee+"/"+url.PathEscape(d["properties_key"].(string)), ""), http.StatusNoContent, "")
	if left := decodeJSON(t, "after delete", tg.guest(t, "GET", ee, "").body).([]any); len(left) != 0 {
		t.Errorf("e2e bindings after the delete: %v", left)
	}
}
