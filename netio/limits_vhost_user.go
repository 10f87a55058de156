package netio

// The connection's side of the per-vhost and per-user limits
// (broker/resource_limits_admit.go): a slot is taken at connection.open
// and channel.open and given back exactly once, when the connection's
// socket is gone or the channel is torn down.

func (c *Conn) releaseSlot() {
	if c.admitted {
		c.admitted = false
		c.b.ReleaseConnection(c.principal.User, c.vhost.Name)
	}
}

func (ch *channel) releaseSlot() {
	if ch.admitted {
		ch.admitted = false
		ch.c.b.ReleaseChannel(ch.c.principal.User)
	}
}
