package netio

import (
	"encoding/binary"
	"net"
	"strings"
	"time"

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
		"capabilities": frame.Table{
			"publisher_confirms":           true,
			"exchange_exchange_bindings":   true,
			"basic.nack":                   true,
			"consumer_cancel_notify":       true,
			"authentication_failure_close": true,
			"per_consumer_qos":             true,
		},
	}
}

func (c *Conn) sendStart() {
	c.sendMethod(0, &frame.ConnectionStart{
		VersionMajor:     0,
		VersionMinor:     9,
		ServerProperties: c.serverProperties(),
		Mechanisms:       "PLAIN AMQPLAIN",
		Locales:          "en_US",
	})
}

func (c *Conn) handleHandshake(f frame.Frame) error {
	if f.Type == frame.FrameHeartbeat {
		return nil
	}
	if f.Type != frame.FrameMethod || f.Channel != 0 {
		return frame.Errorf(frame.UnexpectedFrame, "expected a method frame on channel 0 during the handshake")
	}
	m, err := frame.DecodeMethod(f.Payload)
	if err != nil {
		return err
	}
	switch c.state {
	case stateStartOk:
		so, ok := m.(*frame.ConnectionStartOk)
		if !ok {
			return unexpected(m, "connection.start-ok")
		}
		return c.startOk(so)
	case stateTuneOk:
		to, ok := m.(*frame.ConnectionTuneOk)
		if !ok {
			return unexpected(m, "connection.tune-ok")
		}
		return c.tuneOk(to)
	case stateOpen:
		switch o := m.(type) {
		case *frame.ConnectionOpen:
			return c.open(o)
		case *frame.ConnectionClose:
			return c.clientClose()
		}
		return unexpected(m, "connection.open")
	}
	return unexpected(m, "handshake method")
}

func unexpected(m frame.Method, want string) error {
	return frame.Errorf(frame.CommandInvalid, "expected '%s', got '%s'", want, m.Name())
}

func (c *Conn) startOk(so *frame.ConnectionStartOk) error {
	c.clientProps = so.ClientProperties
	if caps, ok := so.ClientProperties["capabilities"].(frame.Table); ok {
		c.clientCaps = caps
	}
	user, pass, ok := parseCredentials(so.Mechanism, so.Response)
	if !ok {
		return frame.Errorf(frame.AccessRefused, "Login was refused using authentication mechanism %s. For details see the broker logfile.", so.Mechanism)
	}
	p, err := c.srv.authenticate(user, pass, c.t.RemoteAddr())
	if err != nil {
		return frame.Errorf(frame.AccessRefused, "Login was refused using authentication mechanism %s. For details see the broker logfile.", so.Mechanism)
	}
	c.principal = p
	c.sendMethod(0, &frame.ConnectionTune{ChannelMax: DefaultChannelMax, FrameMax: DefaultFrameMax, Heartbeat: c.srv.cfg.Heartbeat})
	c.state = stateTuneOk
	return nil
}

// parseCredentials reads PLAIN ("\0user\0pass", authzid optional) and
// AMQPLAIN (a field table without its length prefix) responses.
func parseCredentials(mechanism, response string) (string, string, bool) {
	switch mechanism {
	case "PLAIN":
		parts := strings.Split(response, "\x00")
		if len(parts) != 3 {
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

func (c *Conn) tuneOk(to *frame.ConnectionTuneOk) error {
	fm := to.FrameMax
	if fm == 0 {
		fm = DefaultFrameMax
	}
	if fm < frame.FrameMinSize {
		return frame.Errorf(frame.NotAllowed, "frame_max=%d < %d min size", to.FrameMax, frame.FrameMinSize)
	}
	if fm > DefaultFrameMax {
		return frame.Errorf(frame.NotAllowed, "frame_max=%d > %d max size", to.FrameMax, DefaultFrameMax)
	}
	cm := to.ChannelMax
	if cm == 0 || cm > DefaultChannelMax {
		cm = DefaultChannelMax
	}
	c.frameMax, c.channelMax = fm, cm
	c.heartbeat.Store(uint32(to.Heartbeat))
	c.state = stateOpen
	return nil
}

func (c *Conn) open(o *frame.ConnectionOpen) error {
	v, ok := c.b.VHost(o.VirtualHost)
	if !ok {
		return frame.Errorf(frame.NotAllowed, "vhost %s not found", o.VirtualHost)
	}
	c.vhost = v
	c.principal.VHost = v.Name
	c.sendMethod(0, &frame.ConnectionOpenOk{})
	c.state = stateOpened
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
	case *frame.ConnectionCloseOk:
		return nil
	case *frame.ConnectionBlocked, *frame.ConnectionUnblocked:
		return nil
	case *frame.ConnectionUpdateSecret:
		c.sendMethod(0, &frame.ConnectionUpdateSecretOk{})
		return nil
	default:
		if m.ID()>>16 != 10 {
			return frame.Errorf(frame.CommandInvalid, "method %s on channel 0", m.Name())
		}
		return frame.Errorf(frame.CommandInvalid, "unexpected %s", m.Name())
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
