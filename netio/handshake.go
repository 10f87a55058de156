package netio

import (
	"encoding/binary"
	"net"
	"strings"
	"time"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// Version is reported in connection.start's server properties.
var Version = "0.1.0"

func (c *Conn) serverProperties() frame.Table {
	return frame.Table{
		"product":      "Warren",
		"version":      Version,
		"platform":     "Go",
		"copyright":    "Warren contributors",
		"information":  "AMQP 0-9-1 broker with segmented log storage",
		"cluster_name": "warren@" + c.srv.cfg.NodeName,
		"capabilities": capabilities(),
	}
}

// capabilities are what connection.start advertises: exactly the
// features of RabbitMQ 3.10's list that Warren has, since clients act on
// them.
func capabilities() frame.Table {
	return frame.Table{
		"publisher_confirms":           true,
		"exchange_exchange_bindings":   true,
		"basic.nack":                   true,
		"consumer_cancel_notify":       true,
		"authentication_failure_close": true,
		"per_consumer_qos":             true,
		"direct_reply_to":              true,
		"consumer_priorities":          true, // x-priority (broker/consumer_priority.go)
		"connection.blocked":           true, // resource alarms (blocked.go)
	}
}

func (c *Conn) sendStart() {
	c.sendMethod(0, &frame.ConnectionStart{
		VersionMajor:     0,
		VersionMinor:     9,
		ServerProperties: c.serverProperties(),
		Mechanisms:       c.offeredMechanisms(),
		Locales:          "en_US",
	})
}

// handleHandshake runs start-ok, tune-ok and open. Errors before tune-ok
// only reach the log (connError drops such peers silently, as RabbitMQ);
// from then on they are closes naming the method, as RabbitMQ's.
func (c *Conn) handleHandshake(f frame.Frame) error {
	if f.Type == frame.FrameHeartbeat && f.Channel == 0 {
		return nil
	}
	if f.Type != frame.FrameMethod || f.Channel != 0 {
		return frame.Errorf(frame.UnexpectedFrame, "frame type %d on channel %d during the handshake", f.Type, f.Channel)
	}
	id, err := frame.MethodID(f.Payload)
	if err != nil {
		return err
	}
	opening := c.state == stateOpen
	err = c.handshakeMethod(f.Payload)
	if opening {
		// Unlike on channels, RabbitMQ names the method here even when its
		// arguments do not decode (connection.open with a vhost not UTF-8).
		// Its refused-login close (the only one before) names none.
		return onMethod(err, id)
	}
	return err
}

func (c *Conn) handshakeMethod(payload []byte) error {
	m, err := frame.DecodeMethod(payload)
	if err != nil {
		return err
	}
	switch c.state {
	case stateStartOk:
		if so, ok := m.(*frame.ConnectionStartOk); ok {
			return c.startOk(so)
		}
	case stateTuneOk:
		if to, ok := m.(*frame.ConnectionTuneOk); ok {
			return c.tuneOk(to)
		}
	case stateOpen:
		// RabbitMQ refuses even connection.close here.
		if o, ok := m.(*frame.ConnectionOpen); ok {
			return c.open(o)
		}
	}
	return c.unexpectedMethod()
}

// unexpectedMethod is RabbitMQ's answer to a connection-level method that
// does not fit the connection's state; the caller adds the method's ids.
func (c *Conn) unexpectedMethod() *frame.Error {
	return frame.Errorf(frame.ChannelError, "unexpected method in connection state %s", c.stateName())
}

// stateName is RabbitMQ's name for the connection's state.
func (c *Conn) stateName() string {
	switch c.state {
	case stateStartOk, stateSecureOk:
		return "starting"
	case stateTuneOk:
		return "tuning"
	case stateOpen:
		return "opening"
	case stateOpened:
		return "running"
	}
	return "closing"
}

func (c *Conn) startOk(so *frame.ConnectionStartOk) error {
	c.clientProps = so.ClientProperties
	if caps, ok := so.ClientProperties["capabilities"].(frame.Table); ok {
		c.clientCaps = caps
	}
	// As RabbitMQ, only wrong credentials are ACCESS_REFUSED (which a client
	// announcing authentication_failure_close hears about); an unknown
	// mechanism or a response that does not parse is a protocol error, and
	// dropped silently.
	p, err := c.login(so.Mechanism, so.Response)
	if err != nil {
		return err
	}
	c.principal = p
	c.authMechanism = canonicalMechanism(so.Mechanism)
	c.sendMethod(0, &frame.ConnectionTune{ChannelMax: c.srv.cfg.ChannelMax, FrameMax: c.srv.cfg.FrameMax, Heartbeat: c.srv.cfg.Heartbeat})
	c.state = stateTuneOk
	return nil
}

// canonicalMechanism is m as a constant, so the registry keeps no view
// of a frame buffer; login accepted only these.
func canonicalMechanism(m string) string {
	for _, name := range [...]string{"PLAIN", "AMQPLAIN", "EXTERNAL"} {
		if m == name {
			return name
		}
	}
	return ""
}

// login authenticates start-ok's response with the chosen mechanism.
func (c *Conn) login(mechanism, response string) (*broker.Principal, error) {
	if !c.mechanismOffered(mechanism) { // auth_mechanisms.go
		return nil, frame.Errorf(frame.CommandInvalid, "unknown authentication mechanism '%s'", mechanism)
	}
	switch mechanism {
	case "PLAIN", "AMQPLAIN":
	case "EXTERNAL":
		return c.externalLogin() // tls_external.go
	default:
		return nil, frame.Errorf(frame.CommandInvalid, "unknown authentication mechanism '%s'", mechanism)
	}
	user, pass, ok := parseCredentials(mechanism, response)
	if !ok {
		return nil, frame.Errorf(frame.SyntaxError, "%s response invalid", mechanism)
	}
	p, err := c.srv.authenticate(user, pass, c.t.RemoteAddr())
	if err != nil {
		return nil, frame.Errorf(frame.AccessRefused, "Login was refused using authentication mechanism %s. For details see the broker logfile.", mechanism)
	}
	return p, nil
}

// parseCredentials reads PLAIN ("\0user\0pass": RabbitMQ takes no authzid)
// and AMQPLAIN (a field table without its length prefix) responses.
func parseCredentials(mechanism, response string) (string, string, bool) {
	switch mechanism {
	case "PLAIN":
		parts := strings.Split(response, "\x00")
		if len(parts) != 3 || parts[0] != "" {
			return "", "", false
		}
		return parts[1], parts[2], true
	case "AMQPLAIN":
		buf := make([]byte, 4, 4+len(response))
		binary.BigEndian.PutUint32(buf, uint32(len(response)))
		t, _, err := frame.DecodeTable(append(buf, response...))
		if err != nil {
			return "", "", false
		}
		u, ok1 := t["LOGIN"].(string)
		p, ok2 := t["PASSWORD"].(string)
		return u, p, ok1 && ok2
	}
	return "", "", false
}

// tuneOk takes the client's limits. As in RabbitMQ, they may lower the
// server's proposal but not raise it, and 0 ("no limit") raises it.
func (c *Conn) tuneOk(to *frame.ConnectionTuneOk) error {
	if err := negotiated("frame_max", uint32(to.FrameMax), frame.FrameMinSize, c.srv.cfg.FrameMax); err != nil {
		return err
	}
	if err := negotiated("channel_max", uint32(to.ChannelMax), 1, uint32(c.srv.cfg.ChannelMax)); err != nil {
		return err
	}
	c.frameMax, c.channelMax = to.FrameMax, to.ChannelMax
	c.heartbeat.Store(uint32(to.Heartbeat))
	c.state = stateOpen
	return nil
}

// negotiated checks one tune-ok limit against the server's, with
// RabbitMQ's text (it only reaches the log: the peer is dropped silently).
func negotiated(field string, v, min, max uint32) error {
	if v != 0 && v < min {
		return frame.Errorf(frame.NotAllowed, "negotiated %s = %d is lower than the minimum allowed value (%d)", field, v, min)
	}
	if v == 0 || v > max {
		noLimit := ""
		if v == 0 && field == "channel_max" {
			noLimit = " (no limit)"
		}
		return frame.Errorf(frame.NotAllowed, "negotiated %s = %d%s is higher than the maximum allowed value (%d)", field, v, noLimit, max)
	}
	return nil
}

func (c *Conn) open(o *frame.ConnectionOpen) error {
	if err := c.srv.checkConnectionMax(); err != nil {
		return err
	}
	v, ok := c.b.VHost(o.VirtualHost)
	if !ok {
		return frame.Errorf(frame.NotAllowed, "vhost %s not found", o.VirtualHost)
	}
	if !c.b.Users().CanAccessVHost(c.principal.User, v.Name) {
		return frame.Errorf(frame.NotAllowed, "access to vhost '%s' refused for user '%s'", v.Name, c.principal.User)
	}
	if err := c.b.AdmitConnection(c.principal.User, v); err != nil {
		return err
	}
	c.admitted = true
	c.vhost = v
	c.principal.VHost = v.Name
	c.sendMethod(0, &frame.ConnectionOpenOk{})
	c.state = stateOpened
	c.handshakeDeadline.Store(0)
	c.registerOpened()
	return nil
}

// clientClose answers connection.close. As RabbitMQ, it leaves closing the
// socket to the client, which must see close-ok before EOF; the ticker
// closes it if the client does not.
func (c *Conn) clientClose() error {
	c.sendMethod(0, &frame.ConnectionCloseOk{})
	c.teardownChannels()
	c.state = stateDone
	c.closeDeadline.Store(time.Now().Add(3 * time.Second).UnixNano())
	return nil
}

func (c *Conn) handleConnectionMethod(payload []byte) error {
	m, err := frame.DecodeMethod(payload)
	if err != nil {
		return err
	}
	switch m := m.(type) {
	case *frame.ConnectionClose:
		return c.clientClose()
	case *frame.ConnectionUpdateSecret:
		c.sendMethod(0, &frame.ConnectionUpdateSecretOk{})
		return nil
	default:
		// Unsolicited close-ok and blocked/unblocked too, as RabbitMQ.
		return c.unexpectedMethod().WithMethod(m.ID())
	}
}

func isLoopback(a net.Addr) bool {
	if a == nil {
		return false
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
