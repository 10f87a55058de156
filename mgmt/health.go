package mgmt

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/warrenmq/warren/broker"
)

// registerHealth serves RabbitMQ's health checks: alarms and local-alarms
// fail (503) while a memory or disk alarm is in effect (broker/alarms.go);
// Warren has one node and every vhost of it runs, so virtual-hosts and
// node-is-quorum-critical pass as RabbitMQ's do on a healthy single node;
// port-listener and aliveness-test look.
func (a *api) registerHealth() {
	ok := func(w http.ResponseWriter, _ *http.Request, _ *broker.Principal) {
		writeJSON(w, map[string]any{"status": "ok"})
	}
	a.handle("GET", "/api/health/checks/alarms", permManagement, a.alarmsCheck("There are alarms in effect in the cluster"))
	a.handle("GET", "/api/health/checks/local-alarms", permManagement, a.alarmsCheck("There are alarms in effect on the node"))
	a.handle("GET", "/api/health/checks/virtual-hosts", permManagement, ok)
	a.handle("GET", "/api/health/checks/node-is-quorum-critical", permManagement, func(w http.ResponseWriter, _ *http.Request, _ *broker.Principal) {
		writeJSON(w, map[string]any{"status": "ok", "reason": "single node cluster"})
	})
	a.handle("GET", "/api/health/checks/port-listener/{port}", permManagement, a.portListener)
	a.handle("GET", "/api/aliveness-test/{vhost}", permManagement, a.aliveness)
}

// alarmsCheck answers ok, or RabbitMQ's 503 naming the alarms in effect.
func (a *api) alarmsCheck(reason string) apiHandler {
	return func(w http.ResponseWriter, _ *http.Request, _ *broker.Principal) {
		st := a.b.Alarms().Status()
		alarms := []map[string]any{}
		if st.Memory {
			alarms = append(alarms, map[string]any{"node": a.cfg.Node, "resource": "memory"})
		}
		if st.Disk {
			alarms = append(alarms, map[string]any{"node": a.cfg.Node, "resource": "disk"})
		}
		if len(alarms) == 0 {
			writeJSON(w, map[string]any{"status": "ok"})
			return
		}
		writeJSONStatus(w, http.StatusServiceUnavailable, map[string]any{"status": "failed", "reason": reason, "alarms": alarms})
	}
}

func (a *api) portListener(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	want, err := strconv.Atoi(pathValue(r, "port"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "bad port")
		return
	}
	ports := []int{}
	for _, l := range a.listeners() {
		p := l["port"].(int)
		if p == want {
			writeJSON(w, map[string]any{"status": "ok", "port": want})
			return
		}
		ports = append(ports, p)
	}
	writeJSONStatus(w, http.StatusServiceUnavailable, map[string]any{"status": "failed", "reason": "No active listener", "missing": want, "ports": ports})
}

// aliveness declares the vhost's "aliveness-test" queue, publishes a
// message to it through the default exchange and gets it back, as
// RabbitMQ's aliveness test does.
func (a *api) aliveness(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	v, ok := a.vhostOr404(w, r)
	if !ok {
		return
	}
	const name = "aliveness-test"
	q, err := v.QueueDeclare(p, broker.QueueDeclareOptions{Name: name})
	if err == nil {
		body := []byte("test_message")
		m := &broker.Message{RoutingKey: []byte(name), Body: body, Timestamp: time.Now().UnixMilli()}
		_, _, err = v.Publish(p, m, &broker.PublishCache{}, nil)
		if err == nil {
			got := false
			q.Get(true, func(_ broker.Ticket, d broker.Delivery, _ int) { got = bytes.Equal(d.Body, body) })
			if got {
				writeJSON(w, map[string]any{"status": "ok"})
				return
			}
		}
	}
	reason := "the test message did not come back"
	if err != nil {
		reason = err.Error()
	}
	writeJSONStatus(w, http.StatusServiceUnavailable, map[string]any{"status": "failed", "reason": reason})
}
