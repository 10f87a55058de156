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
	peerHost, peerPort := splitHostPort(c.Info.Peer)
	host, lport := splitHostPort(c.Info.Local)
	props := tableJSON(c.Info.ClientProperties)
	if props == nil {
		props = map[string]any{}
	}
	recvRate, sendRate := a.rates.connRates(c) // rates_objects.go
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
		"ssl":                       c.Info.TLS != nil,
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
	addTLSFields(row, c.Info.TLS)
	return row
}

// addTLSFields sets RabbitMQ's ssl_* and peer_cert_* items: null on a
// plain connection, and the certificate's null when the client sent none.
func addTLSFields(row map[string]any, t *broker.TLSInfo) {
	str := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	if t == nil {
		t = &broker.TLSInfo{}
	}
	row["ssl_protocol"] = str(t.Protocol)
	row["ssl_key_exchange"] = str(t.KeyExchange)
	row["ssl_cipher"] = str(t.Cipher)
	row["ssl_hash"] = str(t.Hash)
	row["peer_cert_subject"] = str(t.PeerCertSubject)
	row["peer_cert_issuer"] = str(t.PeerCertIssuer)
	row["peer_cert_validity"] = str(t.PeerCertValidity)
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
	for _, c := range conns {
		rows = append(rows, a.connectionJSON(c))
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
