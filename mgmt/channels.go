package mgmt

import (
	"net/http"
	"strconv"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// registerChannels serves /api/channels[/name], /api/vhosts/{vhost}/channels
// and /api/consumers[/vhost], from the broker's registry of connections.
// Users who are neither administrator nor monitoring see their own.
func (a *api) registerChannels() {
	a.handle("GET", "/api/channels", permManagement, a.listChannels)
	a.handle("GET", "/api/channels/{$}", permManagement, a.listChannels)
	a.handle("GET", "/api/channels/{name}", permManagement, a.getChannel)
	a.handle("GET", "/api/vhosts/{vhost}/channels", permManagement, a.listVHostChannels)
	a.handle("GET", "/api/connections/{name}/channels", permManagement, a.listConnChannels)
	a.handle("GET", "/api/consumers", permManagement, a.listConsumers)
	a.handle("GET", "/api/consumers/{$}", permManagement, a.listConsumers)
	a.handle("GET", "/api/consumers/{vhost}", permManagement, a.listVHostConsumers)
}

// channelName is RabbitMQ's: "<connection name> (<number>)".
func channelName(ch *broker.ChannelEntry) string {
	return connectionName(ch.Conn()) + " (" + strconv.Itoa(int(ch.Number)) + ")"
}

func (a *api) channelDetails(ch *broker.ChannelEntry) map[string]any {
	c := ch.Conn()
	host, port := splitHostPort(c.Info.Peer)
	return map[string]any{
		"name": channelName(ch), "number": ch.Number, "node": a.cfg.Node, "user": c.Info.User,
		"connection_name": connectionName(c), "peer_host": host, "peer_port": port,
	}
}

func (a *api) channelJSON(ch *broker.ChannelEntry) map[string]any {
	c := ch.Conn()
	host, port := splitHostPort(c.Info.Peer)
	m := map[string]any{
		"name":                      channelName(ch),
		"number":                    ch.Number,
		"node":                      a.cfg.Node,
		"user":                      c.Info.User,
		"vhost":                     c.Info.VHost,
		"state":                     "running",
		"consumer_count":            len(ch.Consumers()),
		"connection_details":        map[string]any{"name": connectionName(c), "peer_host": host, "peer_port": port},
		"message_stats":             a.rates.channelStats(ch), // rates_objects.go
		"prefetch_count":            ch.PrefetchCount.Load(),
		"global_prefetch_count":     ch.GlobalPrefetchCount.Load(),
		"confirm":                   ch.Confirm.Load(),
		"transactional":             ch.Transactional.Load(),
		"messages_unacknowledged":   ch.Unacknowledged(),
		"messages_unconfirmed":      unconfirmed(ch),
		"messages_uncommitted":      ch.UncommittedMessages.Load(),
		"acks_uncommitted":          ch.UncommittedAcks.Load(),
		"pending_raft_commands":     0, // Warren's quorum queues run no Raft log per channel
		"user_who_performed_action": c.Info.User,
	}
	if idle := a.rates.channelIdleSince(ch); idle != "" { // idle.go
		m["idle_since"] = idle
	}
	return m
}

// unconfirmed is RabbitMQ's messages_unconfirmed: publishes in confirm
// mode answered neither by basic.ack nor basic.nack yet. The three
// counters are loaded one after another while the connection moves them,
// so a read between two of them is clamped at 0.
func unconfirmed(ch *broker.ChannelEntry) uint64 {
	nack := ch.Nacked.Load()
	acked := ch.Confirmed.Load()
	pub := ch.PublishedConfirm.Load() // last: it only grows, so it covers what was settled
	if pub < acked+nack {
		return 0
	}
	return pub - acked - nack
}

func (a *api) visibleChannels(p *broker.Principal, vhost string) []*broker.ChannelEntry {
	var out []*broker.ChannelEntry
	for _, c := range a.visibleConns(p, vhost) {
		out = append(out, c.Channels()...)
	}
	return out
}

func (a *api) writeChannels(w http.ResponseWriter, r *http.Request, chs []*broker.ChannelEntry) {
	rows := make([]map[string]any, 0, len(chs))
	for _, ch := range chs {
		rows = append(rows, a.channelJSON(ch))
	}
	writeList(w, r, rows)
}

func (a *api) listChannels(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	a.writeChannels(w, r, a.visibleChannels(p, ""))
}

func (a *api) listVHostChannels(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	if v, ok := a.vhostOr404(w, r); ok {
		a.writeChannels(w, r, a.visibleChannels(p, v.Name))
	}
}

func (a *api) listConnChannels(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	c, ok := a.findConn(p, pathValue(r, "name"))
	if !ok {
		writeNotFound(w)
		return
	}
	a.writeChannels(w, r, c.Channels())
}

func (a *api) getChannel(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	name := pathValue(r, "name")
	for _, ch := range a.visibleChannels(p, "") {
		if channelName(ch) == name {
			row := a.channelJSON(ch)
			var details []map[string]any
			for _, c := range ch.Consumers() {
				details = append(details, a.consumerJSON(ch, c))
			}
			row["consumer_details"] = emptyRows(details)
			writeJSON(w, row)
			return
		}
	}
	writeNotFound(w)
}

func emptyRows(rows []map[string]any) []map[string]any {
	if rows == nil {
		return []map[string]any{}
	}
	return rows
}

func (a *api) consumerJSON(ch *broker.ChannelEntry, c *broker.Consumer) map[string]any {
	row := map[string]any{
		"consumer_tag":    c.Tag,
		"exclusive":       c.Exclusive,
		"ack_required":    !c.NoAck,
		"active":          true,
		"activity_status": "up",
		"arguments":       emptyIfNil(tableJSON(frame.Table(c.Args))),
		"channel_details": a.channelDetails(ch),
		"queue":           map[string]any{"name": c.Queue.Name, "vhost": ch.Conn().Info.VHost},
	}
	if p, ok := c.D.(interface{ PrefetchCount() int }); ok { // netio/consumer_info.go
		row["prefetch_count"] = p.PrefetchCount()
	}
	return row
}

// consumerRows lists every consumer that keep admits.
func (a *api) consumerRows(keep func(*broker.Consumer) bool) []map[string]any {
	rows := []map[string]any{}
	for _, conn := range a.b.Registry().Conns() {
		for _, ch := range conn.Channels() {
			for _, c := range ch.Consumers() {
				if keep(c) {
					rows = append(rows, a.consumerJSON(ch, c))
				}
			}
		}
	}
	return rows
}

func (a *api) listConsumers(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	var rows []map[string]any
	for _, ch := range a.visibleChannels(p, "") {
		for _, c := range ch.Consumers() {
			rows = append(rows, a.consumerJSON(ch, c))
		}
	}
	writeList(w, r, emptyRows(rows))
}

func (a *api) listVHostConsumers(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	v, ok := a.vhostOr404(w, r)
	if !ok {
		return
	}
	var rows []map[string]any
	for _, ch := range a.visibleChannels(p, v.Name) {
		for _, c := range ch.Consumers() {
			rows = append(rows, a.consumerJSON(ch, c))
		}
	}
	writeList(w, r, emptyRows(rows))
}
