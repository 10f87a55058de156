package mgmt

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// connByName finds a connection by its client-provided name in GET
// /api/connections/ (with the trailing slash amqp091-go's tests use).
func (tg *amqpTarget) connByName(t *testing.T, clientName string) (map[string]any, bool) {
	t.Helper()
	got := tg.guest(t, "GET", "/api/connections/", "")
	if got.status != http.StatusOK {
		t.Fatalf("GET /api/connections/: %d %s", got.status, got.body)
	}
	for _, c := range decodeJSON(t, "connections", got.body).([]any) {
		m := c.(map[string]any)
		if props, _ := m["client_properties"].(map[string]any); props["connection_name"] == clientName {
			return m, true
		}
	}
	return nil, false
}

// The listing shows a connection with RabbitMQ's fields and types; GET by
// its escaped name shows the same; DELETE with X-Reason closes it with 320
// CONNECTION_FORCED and that reason (without, RabbitMQ's "Closed via
// management plugin"); afterwards it is 404.
func TestConnectionsListGetClose(t *testing.T) {
	tg := newAMQPTarget(t)
	for _, reason := range []string{"warren test " + tg.id, ""} {
		name := "warren-conn-" + tg.id + "-" + url.PathEscape(reason)
		c := tg.dial(t, name)
		closed := c.NotifyClose(make(chan *amqp.Error, 1))
		var conn map[string]any
		// RabbitMQ lists a connection at once and adds its statistics
		// (state, channels, octets) with its next emission.
		poll(t, "connection listed with its statistics", func() bool {
			var ok bool
			conn, ok = tg.connByName(t, name)
			return ok && conn["recv_oct"] != nil && conn["state"] != nil
		})
		strs := map[string]string{"user": "guest", "vhost": "/", "protocol": "AMQP 0-9-1", "type": "network", "state": "running", "auth_mechanism": "PLAIN"}
		for k, want := range strs {
			if conn[k] != want {
				t.Errorf("connection %s = %#v, want %q", k, conn[k], want)
			}
		}
		if conn["frame_max"] != 131072.0 || conn["timeout"] != 10.0 { // amqp091-go's defaults, accepted by both brokers
			t.Errorf("connection frame_max %v, timeout %v: want amqp091-go's 131072 and 10", conn["frame_max"], conn["timeout"])
		}
		for _, k := range []string{"peer_port", "port", "channels", "channel_max", "connected_at", "recv_oct", "send_oct", "recv_cnt", "send_cnt", "send_pend"} {
			if _, ok := conn[k].(float64); !ok {
				t.Errorf("connection %s = %#v, want a number", k, conn[k])
			}
		}
		if int(conn["port"].(float64)) != tg.amqpPort(t) {
			t.Errorf("connection port %v, want the AMQP port %d", conn["port"], tg.amqpPort(t))
		}
		path := "/api/connections/" + url.PathEscape(conn["name"].(string))
		if got := tg.guest(t, "GET", path, ""); got.status != http.StatusOK || decodeJSON(t, "one", got.body).(map[string]any)["name"] != conn["name"] {
			t.Fatalf("GET %s: %d %s", path, got.status, got.body)
		}
		req, _ := http.NewRequest("DELETE", tg.base+path, nil)
		req.SetBasicAuth("guest", "guest")
		if reason != "" {
			req.Header.Set("X-Reason", reason)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE %s: %d", path, resp.StatusCode)
		}
		want := reason
		if want == "" {
			want = "Closed via management plugin"
		}
		select {
		case e := <-closed:
			var ae *amqp.Error
			if !errors.As(e, &ae) || ae.Code != amqp.ConnectionForced || ae.Reason != "CONNECTION_FORCED - "+want {
				t.Errorf("closed with %v, want 320 CONNECTION_FORCED - %s", e, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("connection not closed within 30 s of DELETE")
		}
		poll(t, "connection gone", func() bool { return tg.guest(t, "GET", path, "").status == http.StatusNotFound })
		expect(t, "DELETE again", tg.guest(t, "DELETE", path, ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
	}
}

// Per-vhost listing: the connection is in /, a missing vhost is 404.
func TestVHostConnections(t *testing.T) {
	tg := newAMQPTarget(t)
	name := "warren-vconn-" + tg.id
	tg.dial(t, name)
	poll(t, "connection listed", func() bool { _, ok := tg.connByName(t, name); return ok })
	got := tg.guest(t, "GET", "/api/vhosts/%2F/connections", "")
	found := false
	for _, c := range decodeJSON(t, "vhost connections", got.body).([]any) {
		props, _ := c.(map[string]any)["client_properties"].(map[string]any)
		found = found || props["connection_name"] == name
	}
	if got.status != http.StatusOK || !found {
		t.Errorf("/api/vhosts/%%2F/connections: %d, %s not in %s", got.status, name, got.body)
	}
	expect(t, "missing vhost", tg.guest(t, "GET", "/api/vhosts/no-such-"+tg.id+"/connections", ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
}
