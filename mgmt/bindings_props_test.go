package mgmt

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// A binding's properties_key is RabbitMQ's: "~" for the empty routing key
// (rabbitmqadmin's default for delete binding), the key quoted as a query
// value otherwise, and each deletes its binding (runnable against
// RabbitMQ with WARREN_MGMT_URL).
func TestBindingPropertiesKeys(t *testing.T) {
	tg := newTarget(t, nil)
	q := "pk-" + tg.id
	tg.deleteAtEnd(t, "/api/queues/%2F/"+q)
	expect(t, "queue", tg.guest(t, "PUT", "/api/queues/%2F/"+q, `{}`), http.StatusCreated, "")
	bp := "/api/bindings/%2F/e/amq.direct/q/" + q
	for key, want := range map[string]string{"": "~", "a b/c%": "a+b%2Fc%25", "k.1": "k.1", "k.*#": "k.%2A%23"} {
		body := `{"routing_key":` + quoteJSON(key) + `}`
		if got := tg.guest(t, "POST", bp, body); got.status != http.StatusCreated {
			t.Fatalf("bind %q: %d %s", key, got.status, got.body)
		}
		found := false
		for _, b := range decodeJSON(t, "bindings", tg.guest(t, "GET", bp, "").body).([]any) {
			m := b.(map[string]any)
			if m["routing_key"] == key {
				found = true
				if m["properties_key"] != want {
					t.Errorf("key %q: properties_key %q, want %q", key, m["properties_key"], want)
				}
			}
		}
		if !found {
			t.Fatalf("binding %q not listed", key)
		}
		if key != "" { // the routing key as written names the binding too
			if got := tg.guest(t, "GET", bp+"/"+url.PathEscape(key), ""); got.status != http.StatusOK {
				t.Errorf("binding by its routing key %q: %d %s", key, got.status, got.body)
			}
		}
		expect(t, "unbind "+key, tg.guest(t, "DELETE", bp+"/"+url.PathEscape(want), ""), http.StatusNoContent, "")
		expect(t, "unbind again "+key, tg.guest(t, "DELETE", bp+"/"+url.PathEscape(want), ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
	}
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
