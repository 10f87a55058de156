package mgmt

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"
)

// /api/overview has RabbitMQ's fields with their types, and its listeners
// include the AMQP port clients use (test suites look for it there).
func TestOverview(t *testing.T) {
	tg := newAMQPTarget(t)
	got := tg.guest(t, "GET", "/api/overview", "")
	if got.status != http.StatusOK {
		t.Fatalf("overview: %d %s", got.status, got.body)
	}
	o := decodeJSON(t, "overview", got.body).(map[string]any)
	for _, k := range []string{"management_version", "rabbitmq_version", "product_name", "product_version", "node", "cluster_name", "rates_mode"} {
		if s, ok := o[k].(string); !ok || s == "" {
			t.Errorf("overview %s = %#v, want a string", k, o[k])
		}
	}
	for _, k := range []string{"message_stats", "queue_totals", "object_totals"} {
		if _, ok := o[k].(map[string]any); !ok {
			t.Errorf("overview %s = %#v, want an object", k, o[k])
		}
	}
	for _, k := range []string{"channels", "connections", "consumers", "exchanges", "queues"} {
		if _, ok := o["object_totals"].(map[string]any)[k].(float64); !ok {
			t.Errorf("object_totals.%s = %#v, want a number", k, o["object_totals"].(map[string]any)[k])
		}
	}
	found := false
	for _, l := range o["listeners"].([]any) {
		m := l.(map[string]any)
		if _, ok := m["ip_address"].(string); !ok {
			t.Errorf("listener without ip_address: %v", m)
		}
		found = found || (m["protocol"] == "amqp" && m["port"] == float64(tg.amqpPort(t)))
	}
	if !found {
		t.Errorf("no amqp listener on port %d in %v", tg.amqpPort(t), o["listeners"])
	}
}

func TestWhoami(t *testing.T) {
	tg := newTarget(t, nil)
	got := tg.guest(t, "GET", "/api/whoami", "")
	want := map[string]any{"name": "guest", "tags": []any{"administrator"}}
	if got.status != http.StatusOK || !reflect.DeepEqual(decodeJSON(t, "whoami", got.body), any(want)) {
		t.Errorf("whoami: %d %s", got.status, got.body)
	}
	expect(t, "whoami without credentials", tg.do(t, "GET", "/api/whoami", "", "", "", ""), http.StatusUnauthorized, "")
}

// /api/nodes lists the node; /api/nodes/{name} shows it alone.
func TestNodes(t *testing.T) {
	tg := newTarget(t, nil)
	got := tg.guest(t, "GET", "/api/nodes", "")
	nodes, _ := decodeJSON(t, "nodes", got.body).([]any)
	if got.status != http.StatusOK || len(nodes) == 0 {
		t.Fatalf("nodes: %d %s", got.status, got.body)
	}
	n := nodes[0].(map[string]any)
	name, _ := n["name"].(string)
	if n["running"] != true || name == "" {
		t.Errorf("node: %v", n)
	}
	for _, k := range []string{"uptime", "processors", "mem_used", "fd_total", "fd_used", "disk_free"} {
		if _, ok := n[k].(float64); !ok {
			t.Errorf("node %s = %#v, want a number", k, n[k])
		}
	}
	one := tg.guest(t, "GET", "/api/nodes/"+url.PathEscape(name), "")
	if one.status != http.StatusOK || decodeJSON(t, "node", one.body).(map[string]any)["name"] != name {
		t.Errorf("node %s: %d %s", name, one.status, one.body)
	}
	if !tg.external { // RabbitMQ 3.10 crashes into a 500 for an unknown node
		expect(t, "unknown node", tg.guest(t, "GET", "/api/nodes/nobody@nowhere", ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
	}
}
