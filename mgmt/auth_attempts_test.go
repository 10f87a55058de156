package mgmt

import (
	"net/http"
	"os"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// authCounts reads the aggregated auth attempt counters of protocol from
// the target's /metrics (RabbitMQ's on its Prometheus port).
func authCounts(t *testing.T, tg *amqpTarget, protocol string) (total, ok, failed float64) {
	t.Helper()
	base := tg.base
	if tg.external {
		base = strings.TrimSuffix(os.Getenv("WARREN_PROM_URL"), "/")
		if base == "" {
			t.Skip("set WARREN_PROM_URL to the external broker's Prometheus port")
		}
	}
	s := getMetrics(t, base+"/metrics")
	l := `{protocol="` + protocol + `"}`
	for _, name := range []string{"rabbitmq_auth_attempts_total", "rabbitmq_auth_attempts_succeeded_total", "rabbitmq_auth_attempts_failed_total"} {
		if s.types[name] != "counter" {
			t.Errorf("%s is %q, want a counter", name, s.types[name])
		}
	}
	return s.series["rabbitmq_auth_attempts_total"+l], s.series["rabbitmq_auth_attempts_succeeded_total"+l], s.series["rabbitmq_auth_attempts_failed_total"+l]
}

// AMQP logins and the API's basic auth are counted per protocol, as
// RabbitMQ's rabbitmq_auth_attempts_* families count them; against a
// shared external RabbitMQ the counts grow by at least as much.
func TestAuthAttemptsCounted(t *testing.T) {
	tg := newAMQPTarget(t)
	t0, ok0, f0 := authCounts(t, tg, "amqp091")
	c := tg.dial(t, "warren-auth-"+tg.id)
	_ = c
	bad := strings.Replace(tg.amqpURL, "guest:guest@", "guest:wrong@", 1)
	if conn, err := amqp.Dial(bad); err == nil {
		conn.Close()
		t.Fatal("a wrong password logged in")
	}
	t1, ok1, f1 := authCounts(t, tg, "amqp091")
	exact := !tg.external
	check := func(what string, got, want float64) {
		t.Helper()
		if got < want || (exact && got != want) {
			t.Errorf("amqp091 %s grew by %v, want %v", what, got, want)
		}
	}
	check("attempts", t1-t0, 2)
	check("successes", ok1-ok0, 1)
	check("failures", f1-f0, 1)

	h0, _, hf0 := authCounts(t, tg, "http")
	if got := tg.do(t, "GET", "/api/overview", "guest", "wrong", "", ""); got.status != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", got.status)
	}
	tg.guest(t, "GET", "/api/overview", "")
	h1, _, hf1 := authCounts(t, tg, "http")
	if h1-h0 < 2 || hf1-hf0 < 1 || (exact && (h1-h0 != 2 || hf1-hf0 != 1)) {
		t.Errorf("http attempts grew by %v (failed %v), want 2 (1)", h1-h0, hf1-hf0)
	}
}

// /api/auth/attempts/{node} lists the counts per protocol since the last
// DELETE; the DELETE does not take the Prometheus counters down. With
// source tracking on, the detailed families carry remote_address and
// username.
func TestAuthAttemptsAPI(t *testing.T) {
	tg := newAMQPTarget(t)
	if tg.external {
		t.Skip("would reset the shared broker's counts")
	}
	tg.b.AuthAttempts().SetTrackSource(true)
	tg.dial(t, "warren-auth-api-"+tg.id)
	node := object(t, tg.target, "/api/overview")["node"].(string)
	rows := decodeJSON(t, "attempts", tg.guest(t, "GET", "/api/auth/attempts/"+node, "").body).([]any)
	var amqpRow map[string]any
	for _, r := range rows {
		if m := r.(map[string]any); m["protocol"] == "amqp091" {
			amqpRow = m
		}
	}
	if amqpRow == nil || amqpRow["auth_attempts"] != 1.0 || amqpRow["auth_attempts_succeeded"] != 1.0 || amqpRow["auth_attempts_failed"] != 0.0 {
		t.Errorf("attempts: %v", rows)
	}
	src := decodeJSON(t, "by source", tg.guest(t, "GET", "/api/auth/attempts/"+node+"/source", "").body).([]any)
	found := false
	for _, r := range src {
		m := r.(map[string]any)
		found = found || (m["protocol"] == "amqp091" && m["username"] == "guest" && m["remote_address"] == "127.0.0.1" && m["auth_attempts"] == 1.0)
	}
	if !found {
		t.Errorf("by source: %v", src)
	}
	d := getMetrics(t, tg.base+"/metrics/detailed?family=auth_attempt_detailed_metrics&family=auth_attempt_metrics")
	if v := d.series[`rabbitmq_detailed_auth_attempts_detailed_total{remote_address="127.0.0.1",username="guest",protocol="amqp091"}`]; v != 1 {
		t.Errorf("detailed per-source total %v, want 1", v)
	}
	if v := d.series[`rabbitmq_detailed_auth_attempts_total{protocol="amqp091"}`]; v != 1 {
		t.Errorf("detailed total %v, want 1", v)
	}
	expect(t, "unknown node", tg.guest(t, "GET", "/api/auth/attempts/nobody@nowhere", ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)

	expect(t, "reset", tg.guest(t, "DELETE", "/api/auth/attempts/"+node, ""), http.StatusNoContent, "")
	for _, r := range decodeJSON(t, "attempts", tg.guest(t, "GET", "/api/auth/attempts/"+node, "").body).([]any) {
		if m := r.(map[string]any); m["protocol"] == "amqp091" {
			t.Errorf("amqp091 still listed after the reset: %v", m)
		}
	}
	if got := decodeJSON(t, "by source", tg.guest(t, "GET", "/api/auth/attempts/"+node+"/source", "").body).([]any); len(got) > 1 { // the GET above logged in over http
		t.Errorf("by source after the reset: %v", got)
	}
	tg.dial(t, "warren-auth-api-2-"+tg.id)
	expect(t, "reset sources", tg.guest(t, "DELETE", "/api/auth/attempts/"+node+"/source", ""), http.StatusNoContent, "")
	for _, r := range decodeJSON(t, "by source", tg.guest(t, "GET", "/api/auth/attempts/"+node+"/source", "").body).([]any) {
		if m := r.(map[string]any); m["protocol"] == "amqp091" {
			t.Errorf("amqp091 source after DELETE .../source: %v", m)
		}
	}
	if total, _, _ := authCounts(t, tg, "amqp091"); total != 2 {
		t.Errorf("the Prometheus counter is %v after two logins and two resets, want 2", total)
	}
}
