package mgmt

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/warrenmq/warren/broker"
)

// registerHealth serves RabbitMQ's health checks. Warren raises no
// resource alarms (a full disk refuses writes with a nack instead), has
// one node and every vhost of it runs, so those checks pass as RabbitMQ's
// do on a healthy single node; port-listener and aliveness-test look.
func (a *api) registerHealth() {
	ok := func(w http.ResponseWriter, _ *http.Request, _ *broker.Principal) {
		writeJSON(w, map[string]any{"status": "ok"})
	}
	a.handle("GET", "/api/health/checks/alarms", permManagement, ok)
	a.handle("GET", "/api/health/checks/local-alarms", permManagement, ok)
	a.handle("GET", "/api/health/checks/virtual-hosts", permManagement, ok)
	a.handle("GET", "/api/health/checks/node-is-quorum-critical", permManagement, func(w http.ResponseWriter, _ *http.Request, _ *broker.Principal) {
		writeJSON(w, map[string]any{"status": "ok", "reason": "single node cluster"})
	})
	a.handle("GET", "/api/health/checks/port-listener/{port}", permManagement, a.portListener)
	a.handle("GET", "/api/aliveness-test/{vhost}", permManagement, a.aliveness)
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
