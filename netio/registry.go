package netio

import (
	"log/slog"
	"net"
	"time"

	"github.com/warrenmq/warren/broker"
)

// The connection's side of the broker's registry (broker/registry.go): the
// entries are fields of Conn and channel, so registering allocates nothing
// beyond the registry's own map and lists, and the counters are plain
// atomic adds on the goroutines that already touch the message.

// registerOpened lists the connection with the broker once connection.open
// succeeded, and logs it as RabbitMQ does.
func (c *Conn) registerOpened() {
	peer := addrString(c.t.RemoteAddr())
	c.b.Registry().Add(&c.entry, broker.ConnInfo{
		ID:               c.id,
		User:             c.principal.User,
		VHost:            c.vhostName(),
		Peer:             peer,
		Local:            addrString(c.t.LocalAddr()),
		ClientProperties: c.clientProps,
		ConnectedAt:      time.Unix(0, c.acceptedAt),
		FrameMax:         c.frameMax,
		ChannelMax:       c.channelMax,
		Heartbeat:        uint16(c.heartbeat.Load()),
		AuthMechanism:    c.authMechanism,
		TLS:              c.tlsSession(),
	}, c.closeOnRequest)
	slog.Info("user authenticated and granted access to vhost", "conn", c.id, "peer", peer, "user", c.principal.User, "vhost", c.vhostName())
}

// closeOnRequest is the registry's close (management's "close connection").
func (c *Conn) closeOnRequest(reason string) {
	slog.Info("closing AMQP connection on request", "conn", c.id, "peer", addrString(c.t.RemoteAddr()), "reason", reason)
	c.ForceClose(reason)
}

func (c *Conn) unregister() {
	c.b.Registry().Remove(&c.entry)
	c.releaseSlot()
}

func (c *Conn) countIn(n int) {
	if n > 0 {
		c.entry.BytesIn.Add(uint64(n))
		c.entry.RecvCount.Add(1)
	}
}

func (c *Conn) countOut(n int) {
	c.entry.BytesOut.Add(uint64(n))
	c.entry.SendCount.Add(1)
}

func (c *Conn) vhostName() string {
	if c.vhost == nil {
		return "none" // as RabbitMQ logs a connection that never opened one
	}
	return c.vhost.Name
}

func (c *Conn) userName() string {
	if c.principal == nil {
		return "none"
	}
	return c.principal.User
}

func (ch *channel) register() {
	ch.entry.SetUnackedCount(ch.unackedCount) // channel_state.go
	ch.c.entry.AddChannel(&ch.entry, ch.id)
}
func (ch *channel) unregister() {
	ch.c.entry.RemoveChannel(&ch.entry)
	ch.releaseSlot()
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
