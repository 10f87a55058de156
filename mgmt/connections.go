package mgmt

import (
	"net"
	"net/http"
	"strconv"

	"github.com/warrenmq/warren/broker"
)

// registerConnections serves /api/connections (list, one, close) and
// /api/vhosts/{vhost}/connections. A user who is neither administrator nor
// monitoring sees and closes only their own connections, as in RabbitMQ.
func (a *api) registerConnections() {
	a.handle("GET", "/api/connections", permManagement, a.listConnections)
	a.handle("GET", "/api/connections/{$}", permManagement, a.listConnections)
	a.handle("GET", "/api/connections/{name}", permManagement, a.getConnection)
	a.handle("DELETE", "/api/connections/{name}", permManagement, a.closeConnection)
	a.handle("GET", "/api/vhosts/{vhost}/connections", permManagement, a.listVHostConnections)
}

// connectionName is RabbitMQ's name for a connection: "peer -> local".
func connectionName(c *broker.ConnEntry) string {
	return c.Info.Peer + " -> " + c.Info.Local
}

// seesAll: administrators and monitors see every user's objects.
func seesAll(p *broker.Principal) bool {
	return p.HasTag("administrator") || p.HasTag("monitoring")
}

// visibleConns are the connections p may see, in vhost (any if "").
func (a *api) visibleConns(p *broker.Principal, vhost string) []*broker.ConnEntry {
	all := a.b.Registry().Conns()
	out := all[:0]
	for _, c := range all {
		if (seesAll(p) || c.Info.User == p.User) && (vhost == "" || c.Info.VHost == vhost) {
			out = append(out, c)
		}
	}
	return out
}

func (a *api) findConn(p *broker.Principal, name string) (*broker.ConnEntry, bool) {
	for _, c := range a.visibleConns(p, "") {
		if connectionName(c) == name {
			return c, true
		}
	}
	return nil, false
}

func (a *api) connectionJSON(c *broker.ConnEntry) map[string]any {
	return a.connectionJSONWith(c, a.tlsPorts())
}

// tlsPorts are the local addresses of the broker's AMQPS listeners: a
// connection accepted on one of them is RabbitMQ's "ssl": true.
func (a *api) tlsPorts() map[string]bool {
	out := map[string]bool{}
	for _, l := range a.b.Listeners() {
		if l.Protocol == "amqp/ssl" {
			_, p, _ := net.SplitHostPort(l.Addr.String())
			out[p] = true
		}
	}
	return out
}

func (a *api) connectionJSONWith(c *broker.ConnEntry, tlsPorts map[string]bool) map[string]any {
	peerHost, peerPort := splitHostPort(c.Info.Peer)
	host, lport := splitHostPort(c.Info.Local)
	props := tableJSON(c.Info.ClientProperties)
	if props == nil {
		props = map[string]any{}
	}
	recvRate, sendRate := a.rates.connRates(c) // rates_objects.go
	ssl := tlsPorts[strconv.Itoa(lport)]
	row := map[string]any{
		"recv_oct_details":          map[string]any{"rate": recvRate},
		"send_oct_details":          map[string]any{"rate": sendRate},
		"name":                      connectionName(c),
		"node":                      a.cfg.Node,
		"vhost":                     c.Info.VHost,
		"user":                      c.Info.User,
		"user_who_performed_action": c.Info.User,
		"peer_host":                 peerHost,
		"peer_port":                 peerPort,
		"host":                      host,
		"port":                      lport,
		"protocol":                  "AMQP 0-9-1",
		"auth_mechanism":            c.Info.AuthMechanism,
		"type":                      "network",
		"state":                     "running",
		"ssl":                       ssl,
		"channels":                  len(c.Channels()),
		"client_properties":         props,
		"connected_at":              c.Info.ConnectedAt.UnixMilli(),
		"frame_max":                 c.Info.FrameMax,
		"channel_max":               c.Info.ChannelMax,
		"timeout":                   c.Info.Heartbeat,
		"recv_oct":                  c.BytesIn.Load(),
		"send_oct":                  c.BytesOut.Load(),
		"recv_cnt":                  c.RecvCount.Load(),
		"send_cnt":                  c.SendCount.Load(),
		"send_pend":                 c.SendPending.Load(),
	}
	if !ssl { // RabbitMQ's nulls for a plain connection; a TLS one's session details are netio's, not listed here
		for _, k := range []string{"ssl_protocol", "ssl_key_exchange", "ssl_cipher", "ssl_hash", "peer_cert_subject", "peer_cert_issuer", "peer_cert_validity"} {
			row[k] = nil
		}
	}
	return row
}

func splitHostPort(hp string) (string, int) {
	h, p, err := net.SplitHostPort(hp)
	if err != nil {
		return hp, 0
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

func (a *api) writeConns(w http.ResponseWriter, r *http.Request, conns []*broker.ConnEntry) {
	rows := make([]map[string]any, 0, len(conns))
	tls := a.tlsPorts()
	for _, c := range conns {
		rows = append(rows, a.connectionJSONWith(c, tls))
	}
	writeList(w, r, rows)
}

func (a *api) listConnections(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	a.writeConns(w, r, a.visibleConns(p, ""))
}

func (a *api) listVHostConnections(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	vhost := pathValue(r, "vhost")
	if _, ok := a.b.VHost(vhost); !ok {
		writeNotFound(w)
		return
	}
	a.writeConns(w, r, a.visibleConns(p, vhost))
}

func (a *api) getConnection(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	c, ok := a.findConn(p, pathValue(r, "name"))
	if !ok {
		writeNotFound(w)
		return
	}
	writeJSON(w, a.connectionJSON(c))
}

// closeConnection closes with 320 CONNECTION_FORCED and the X-Reason
// header's text, or RabbitMQ's "Closed via management plugin".
func (a *api) closeConnection(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	c, ok := a.findConn(p, pathValue(r, "name"))
	if !ok {
		writeNotFound(w)
		return
	}
	reason := r.Header.Get("X-Reason")
	if reason == "" {
		reason = "Closed via management plugin"
	}
	c.Close(reason)
	w.WriteHeader(http.StatusNoContent)
}
