package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/warrenmq/warren/frame"
)

// client is a minimal raw-frame AMQP 0-9-1 client: enough for a
// handshake, a few synchronous methods on channel 1, batched publishes and a
// no-ack consumer that only counts deliveries.
type client struct {
	nc       net.Conn
	r        *bufio.Reader
	frameMax uint32
	payload  []byte
	hdr      [7]byte
}

const chanID = 1

func dial(uri string, timeout time.Duration) (*client, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "amqp" {
		return nil, fmt.Errorf("only amqp:// URIs, not %q", u.Scheme)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "5672")
	}
	user, pass := "guest", "guest"
	if u.User != nil {
		user = u.User.Username()
		if p, ok := u.User.Password(); ok {
			pass = p
		}
	}
	vhost := "/"
	if p := strings.TrimPrefix(u.EscapedPath(), "/"); p != "" {
		if vhost, err = url.PathUnescape(p); err != nil {
			return nil, err
		}
	}
	nc, err := net.DialTimeout("tcp", host, timeout)
	if err != nil {
		return nil, err
	}
	c := &client{nc: nc, r: bufio.NewReaderSize(nc, 1<<20), frameMax: 131072}
	_ = nc.SetDeadline(time.Now().Add(timeout + 5*time.Second))
	if err := c.handshake(user, pass, vhost); err != nil {
		nc.Close()
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return c, nil
}

func (c *client) handshake(user, pass, vhost string) error {
	if _, err := c.nc.Write(frame.ProtocolHeader[:]); err != nil {
		return err
	}
	if _, err := c.expect(0, frame.IDConnectionStart); err != nil {
		return err
	}
	err := c.send(0, &frame.ConnectionStartOk{
		ClientProperties: frame.Table{
			"product": "warren-backlog",
			"capabilities": frame.Table{
				"publisher_confirms": true, "basic.nack": true, "consumer_cancel_notify": true,
			},
		},
		Mechanism: "PLAIN", Response: "\x00" + user + "\x00" + pass, Locale: "en_US",
	})
	if err != nil {
		return err
	}
	m, err := c.expect(0, frame.IDConnectionTune)
	if err != nil {
		return err
	}
	tune := m.(*frame.ConnectionTune)
	if tune.FrameMax != 0 && tune.FrameMax < c.frameMax {
		c.frameMax = tune.FrameMax
	}
	if err := c.send(0, &frame.ConnectionTuneOk{ChannelMax: 1, FrameMax: c.frameMax, Heartbeat: 0}); err != nil {
		return err
	}
	if err := c.send(0, &frame.ConnectionOpen{VirtualHost: vhost}); err != nil {
		return err
	}
	if _, err := c.expect(0, frame.IDConnectionOpenOk); err != nil {
		return err
	}
	if err := c.send(chanID, &frame.ChannelOpen{}); err != nil {
		return err
	}
	_, err = c.expect(chanID, frame.IDChannelOpenOk)
	return err
}

func (c *client) close() {
	_ = c.nc.SetDeadline(time.Now().Add(5 * time.Second))
	if c.send(0, &frame.ConnectionClose{ReplyCode: frame.ReplySuccess, ReplyText: "bye"}) == nil {
		for {
			typ, _, p, err := c.readFrame()
			if err != nil {
				break
			}
			if typ == frame.FrameMethod {
				if id, _ := frame.MethodID(p); id == frame.IDConnectionCloseOk {
					break
				}
			}
		}
	}
	_ = c.nc.Close()
}

func (c *client) send(ch uint16, m frame.Method) error {
	_, err := c.nc.Write(frame.AppendMethodFrame(nil, ch, m))
	return err
}

// readFrame returns the next frame; payload is valid until the next call.
func (c *client) readFrame() (typ uint8, ch uint16, payload []byte, err error) {
	if _, err = io.ReadFull(c.r, c.hdr[:]); err != nil {
		return
	}
	typ = c.hdr[0]
	ch = binary.BigEndian.Uint16(c.hdr[1:])
	size := int(binary.BigEndian.Uint32(c.hdr[3:]))
	if cap(c.payload) < size+1 {
		c.payload = make([]byte, size+1)
	}
	p := c.payload[:size+1]
	if _, err = io.ReadFull(c.r, p); err != nil {
		return
	}
	if p[size] != frame.FrameEnd {
		err = errors.New("bad frame-end octet")
		return
	}
	return typ, ch, p[:size], nil
}

// nextMethod returns the next method frame; other frames are skipped
// without copying their payload.
func (c *client) nextMethod() (ch uint16, payload []byte, err error) {
	for {
		if _, err = io.ReadFull(c.r, c.hdr[:]); err != nil {
			return
		}
		typ := c.hdr[0]
		ch = binary.BigEndian.Uint16(c.hdr[1:])
		size := int(binary.BigEndian.Uint32(c.hdr[3:]))
		if typ != frame.FrameMethod {
			if _, err = c.r.Discard(size + 1); err != nil {
				return
			}
			continue
		}
		if cap(c.payload) < size+1 {
			c.payload = make([]byte, size+1)
		}
		p := c.payload[:size+1]
		if _, err = io.ReadFull(c.r, p); err != nil {
			return
		}
		return ch, p[:size], nil
	}
}

// closeErr turns a connection.close or channel.close into an error (and
// answers a connection.close).
func (c *client) closeErr(id uint32, payload []byte) error {
	m, err := frame.DecodeMethod(payload)
	if err != nil {
		return err
	}
	switch v := m.(type) {
	case *frame.ConnectionClose:
		_ = c.send(0, &frame.ConnectionCloseOk{})
		return fmt.Errorf("connection closed by the server: %d %s", v.ReplyCode, v.ReplyText)
	case *frame.ChannelClose:
		return fmt.Errorf("channel closed by the server: %d %s", v.ReplyCode, v.ReplyText)
	}
	return fmt.Errorf("unexpected %s", frame.MethodName(id))
}

// expect reads until a method arrives on ch and checks that it is want.
func (c *client) expect(ch uint16, want uint32) (frame.Method, error) {
	for {
		typ, fch, p, err := c.readFrame()
		if err != nil {
			return nil, fmt.Errorf("waiting for %s: %w", frame.MethodName(want), err)
		}
		if typ != frame.FrameMethod {
			continue
		}
		id, err := frame.MethodID(p)
		if err != nil {
			return nil, err
		}
		if id == frame.IDConnectionClose || id == frame.IDChannelClose {
			return nil, c.closeErr(id, p)
		}
		if fch != ch || id != want {
			continue // e.g. a late basic.ack
		}
		return frame.DecodeMethod(p)
	}
}

func (c *client) rpc(m frame.Method, want uint32) (frame.Method, error) {
	if err := c.send(chanID, m); err != nil {
		return nil, err
	}
	return c.expect(chanID, want)
}

// declare declares (or, passive, checks) the queue and returns its message
// count.
func (c *client) declare(queue string, passive bool, args frame.Table) (int, error) {
	m, err := c.rpc(&frame.QueueDeclare{Queue: queue, Durable: true, Passive: passive, Arguments: args}, frame.IDQueueDeclareOk)
	if err != nil {
		return 0, err
	}
	return int(m.(*frame.QueueDeclareOk).MessageCount), nil
}
