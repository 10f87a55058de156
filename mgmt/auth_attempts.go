package mgmt

import (
	"net/http"

	"github.com/warrenmq/warren/broker"
)

// Authentication attempts (broker/auth_attempts.go): RabbitMQ's
// /api/auth/attempts/{node}[/source] and the auth_attempt families of its
// Prometheus plugin. Every listener counts its logins: AMQP (netio),
// stream (netio/streamproto) and this API's basic auth (auth.go).

func (a *api) registerAuthAttempts() {
	a.handle("GET", "/api/auth/attempts/{node}", permMonitor, a.authAttempts)
	a.handle("DELETE", "/api/auth/attempts/{node}", permMonitor, a.resetAuthAttempts)
	a.handle("GET", "/api/auth/attempts/{node}/source", permMonitor, a.authAttemptsBySource)
	a.handle("DELETE", "/api/auth/attempts/{node}/source", permMonitor, a.resetAuthAttempts)
}

func authRow(c broker.AuthCount, source bool) map[string]any {
	row := map[string]any{
		"protocol": c.Protocol, "auth_attempts": c.Total,
		"auth_attempts_failed": c.Failed, "auth_attempts_succeeded": c.Succeeded,
	}
	if source {
		row["remote_address"], row["username"] = c.RemoteAddress, c.Username
	}
	return row
}

// thisNode reports whether {node} names this broker, answering 404 if not.
func (a *api) thisNode(w http.ResponseWriter, r *http.Request) bool {
	if pathValue(r, "node") != a.cfg.Node {
		writeNotFound(w)
		return false
	}
	return true
}

func (a *api) authAttempts(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	if !a.thisNode(w, r) {
		return
	}
	rows := []map[string]any{}
	for _, c := range a.b.AuthAttempts().SinceReset() {
		if c.Total > 0 { // RabbitMQ lists a protocol once it saw a login
			rows = append(rows, authRow(c, false))
		}
	}
	writeList(w, r, rows)
}

func (a *api) authAttemptsBySource(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	if !a.thisNode(w, r) {
		return
	}
	rows := []map[string]any{}
	for _, c := range a.b.AuthAttempts().BySource() {
		rows = append(rows, authRow(c, true))
	}
	writeList(w, r, rows)
}

func (a *api) resetAuthAttempts(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	if !a.thisNode(w, r) {
		return
	}
	a.b.AuthAttempts().Reset()
	w.WriteHeader(http.StatusNoContent)
}

// httpAddr is a request's remote address as a net.Addr, for
// AuthAttempts.Record.
type httpAddr string

func (httpAddr) Network() string  { return "tcp" }
func (a httpAddr) String() string { return string(a) }

func remoteAddr(r *http.Request) httpAddr { return httpAddr(r.RemoteAddr) }

// writeAuthAttempts writes the auth attempt families with prefix
// ("rabbitmq_" on /metrics, "rabbitmq_detailed_" on /metrics/detailed):
// per protocol, and with sources the per-source ones too (each family's
// HELP and TYPE even when no source is tracked, as RabbitMQ writes them).
func writeAuthAttempts(t *promText, b *broker.Broker, prefix string, protocols, sources bool) {
	a := b.AuthAttempts()
	type fam struct {
		name, help string
		of         func(broker.AuthCount) uint64
	}
	total := func(c broker.AuthCount) uint64 { return c.Total }
	ok := func(c broker.AuthCount) uint64 { return c.Succeeded }
	failed := func(c broker.AuthCount) uint64 { return c.Failed }
	if protocols {
		rows := a.ByProtocol()
		for _, f := range []fam{
			{"auth_attempts_total", "Total number of authorization attempts", total},
			{"auth_attempts_succeeded_total", "Total number of successful authentication attempts", ok},
			{"auth_attempts_failed_total", "Total number of failed authentication attempts", failed},
		} {
			t.family(prefix+f.name, "counter", f.help)
			for _, c := range rows {
				if c.Total > 0 {
					t.uint(prefix+f.name, labels("protocol", c.Protocol), f.of(c))
				}
			}
		}
	}
	if sources {
		rows := a.BySource()
		for _, f := range []fam{
			{"auth_attempts_detailed_total", "Total number of authorization attempts with source info", total},
			{"auth_attempts_detailed_succeeded_total", "Total number of successful authorization attempts with source info", ok},
			{"auth_attempts_detailed_failed_total", "Total number of failed authorization attempts with source info", failed},
		} {
			t.family(prefix+f.name, "counter", f.help)
			for _, c := range rows {
				t.uint(prefix+f.name, labels("remote_address", c.RemoteAddress, "username", c.Username, "protocol", c.Protocol), f.of(c))
			}
		}
	}
}
