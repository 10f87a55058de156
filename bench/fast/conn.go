package fast

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/warrenmq/warren/bench/wire"
)

// Channel is the one channel a Conn opens.
const Channel = 1

// defaultFrameMax is proposed when the server sets no limit.
const defaultFrameMax = 131072

// Conn is one AMQP connection with channel 1 open. It is not safe for
// concurrent use except as documented: one goroutine reads (Next), and one
// goroutine may write at a time.
type Conn struct {
	nc       *net.TCPConn
	rb       []byte // read buffer; rb[r:w] is unread
	r, w     int
	readNs   int64  // wall clock of the last successful Read
	pending  []byte // written before the next blocking read
	maxFrame int    // largest payload accepted

	FrameMax   uint32
	ChannelMax uint16
}

// Dial connects, authenticates with PLAIN, tunes (echoing the server's
// frame_max and channel_max, heartbeat 0), opens the vhost and channel 1.
func Dial(uri string, timeout time.Duration) (*Conn, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	nc, err := net.DialTimeout("tcp", u.Addr, timeout)
	if err != nil {
		return nil, err
	}
	tc := nc.(*net.TCPConn)
	_ = tc.SetNoDelay(true)
	c := &Conn{nc: tc, rb: make([]byte, 1<<20), maxFrame: 1 << 20}
	if err := c.handshake(u, timeout); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

func (c *Conn) handshake(u URI, timeout time.Duration) error {
	_ = c.nc.SetDeadline(time.Now().Add(timeout))
	defer c.nc.SetDeadline(time.Time{})
	if _, err := c.nc.Write(wire.ProtocolHeader); err != nil {
		return err
	}
	args, err := c.expect(wire.ConnectionStart)
	if err != nil {
		return fmt.Errorf("fast: waiting for connection.start: %w", err)
	}
	if _, _, _, err := wire.ParseStart(args); err != nil {
		return err
	}
	props := wire.Table{
		{Key: "product", Value: "warren-perf"},
		{Key: "platform", Value: "Go"},
		{Key: "capabilities", Value: wire.Table{}},
	}
	if err := c.write(wire.AppendStartOk(nil, props, u.User, u.Pass)); err != nil {
		return err
	}
	args, err = c.expect(wire.ConnectionTune)
	if err != nil {
		return fmt.Errorf("fast: waiting for connection.tune: %w", err)
	}
	t, err := wire.ParseTune(args)
	if err != nil {
		return err
	}
	c.FrameMax, c.ChannelMax = t.FrameMax, t.ChannelMax
	if c.FrameMax == 0 {
		c.FrameMax = defaultFrameMax
	}
	if c.FrameMax < wire.MinFrameMax {
		return fmt.Errorf("fast: server frame_max %d below %d", c.FrameMax, wire.MinFrameMax)
	}
	c.maxFrame = int(c.FrameMax)
	if need := 4 * int(c.FrameMax); need > len(c.rb) {
		c.rb = make([]byte, need)
	}
	b := wire.AppendTuneOk(nil, c.ChannelMax, c.FrameMax, 0)
	b = wire.AppendConnectionOpen(b, u.Vhost)
	if err := c.write(b); err != nil {
		return err
	}
	if _, err := c.expect(wire.ConnectionOpenOk); err != nil {
		return fmt.Errorf("fast: connection.open %q: %w", u.Vhost, err)
	}
	_, err = c.Call(wire.AppendChannelOpen(nil, Channel), wire.ChannelOpenOk)
	return err
}

func (c *Conn) write(b []byte) error {
	_, err := c.nc.Write(b)
	return err
}

// Write writes b (whole frames) to the connection.
func (c *Conn) Write(b []byte) error { return c.write(b) }

// SetDeadline sets the read and write deadline; a past time unblocks both.
func (c *Conn) SetDeadline(t time.Time) error { return c.nc.SetDeadline(t) }

// Close closes politely: connection.close, then waits briefly for
// close-ok (skipping any deliveries still in flight), then closes the socket.
func (c *Conn) Close() error {
	_ = c.nc.SetDeadline(time.Now().Add(time.Second))
	if c.write(wire.AppendClose(nil, 0, 200, "bye")) == nil {
		for {
			f, err := c.Next()
			if err != nil {
				break
			}
			if f.Type == wire.FrameMethod {
				if id, _, _ := wire.Method(f.Payload); id == wire.ConnectionCloseOk || id == wire.ConnectionClose {
					break
				}
			}
		}
	}
	return c.nc.Close()
}

// Abort closes the socket without the close handshake.
func (c *Conn) Abort() error { return c.nc.Close() }

// IsTimeout reports whether err is a deadline expiry.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
