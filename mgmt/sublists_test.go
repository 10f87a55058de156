package mgmt

import (
	"net/http"
	"net/url"
	"testing"
)

// The per-object sub-lists tools read: a connection's and a vhost's
// channels, a user's permissions and topic permissions, a vhost's topic
// permissions; each 404s for a missing owner.
func TestSubLists(t *testing.T) {
	tg := newAMQPTarget(t)
	c := tg.dial(t, "warren-sub-"+tg.id)
	if _, err := c.Channel(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Channel(); err != nil {
		t.Fatal(err)
	}
	var conn string
	poll(t, "the connection's two channels", func() bool {
		for _, e := range decodeJSON(t, "connections", tg.guest(t, "GET", "/api/connections", "").body).([]any) {
			m := e.(map[string]any)
			if props, _ := m["client_properties"].(map[string]any); props["connection_name"] == "warren-sub-"+tg.id {
				conn = m["name"].(string)
			}
		}
		if conn == "" {
			return false
		}
		return len(decodeJSON(t, "conn channels", tg.guest(t, "GET", "/api/connections/"+url.PathEscape(conn)+"/channels", "").body).([]any)) == 2
	})
	for _, e := range decodeJSON(t, "conn channels", tg.guest(t, "GET", "/api/connections/"+url.PathEscape(conn)+"/channels", "").body).([]any) {
		m := e.(map[string]any)
		if cd, _ := m["connection_details"].(map[string]any); cd["name"] != conn || m["vhost"] != "/" {
			t.Errorf("connection's channel: %v", m)
		}
	}
	n := 0
	for _, e := range decodeJSON(t, "vhost channels", tg.guest(t, "GET", "/api/vhosts/%2F/channels", "").body).([]any) {
		if cd, _ := e.(map[string]any)["connection_details"].(map[string]any); cd["name"] == conn {
			n++
		}
	}
	if n != 2 {
		t.Errorf("/api/vhosts/%%2F/channels has %d of the connection's channels, want 2", n)
	}
	if !tg.external { // RabbitMQ 3.10.8 answers this with an empty 500 (a crash in its handler); Warren with its 404
		expect(t, "missing connection", tg.guest(t, "GET", "/api/connections/nope/channels", ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
	}
	expect(t, "missing vhost", tg.guest(t, "GET", "/api/vhosts/nope-"+tg.id+"/channels", ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)

	user := "warren-sub-u-" + tg.id
	tg.deleteAtEnd(t, "/api/users/"+user)
	expect(t, "user", tg.guest(t, "PUT", "/api/users/"+user, `{"password":"pw","tags":""}`), http.StatusCreated, "")
	expect(t, "permission", tg.guest(t, "PUT", "/api/permissions/%2F/"+user, `{"configure":"^c$","write":"^w$","read":"^r$"}`), http.StatusCreated, "")
	expect(t, "topic permission", tg.guest(t, "PUT", "/api/topic-permissions/%2F/"+user, `{"exchange":"amq.topic","write":"^a","read":"^b"}`), http.StatusCreated, "")
	perms := decodeJSON(t, "user permissions", tg.guest(t, "GET", "/api/users/"+user+"/permissions", "").body).([]any)
	if len(perms) != 1 || perms[0].(map[string]any)["configure"] != "^c$" || perms[0].(map[string]any)["vhost"] != "/" || perms[0].(map[string]any)["user"] != user {
		t.Errorf("user permissions: %v", perms)
	}
	tps := decodeJSON(t, "user topic permissions", tg.guest(t, "GET", "/api/users/"+user+"/topic-permissions", "").body).([]any)
	if len(tps) != 1 || tps[0].(map[string]any)["exchange"] != "amq.topic" || tps[0].(map[string]any)["write"] != "^a" {
		t.Errorf("user topic permissions: %v", tps)
	}
	found := false
	for _, e := range decodeJSON(t, "vhost topic permissions", tg.guest(t, "GET", "/api/vhosts/%2F/topic-permissions", "").body).([]any) {
		m := e.(map[string]any)
		found = found || (m["user"] == user && m["read"] == "^b")
	}
	if !found {
		t.Errorf("%s's topic permission not in /api/vhosts/%%2F/topic-permissions", user)
	}
	expect(t, "missing user", tg.guest(t, "GET", "/api/users/nope-"+tg.id+"/permissions", ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
}
