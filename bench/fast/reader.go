package fast

import (
	"time"

	"github.com/warrenmq/warren/bench/wire"
)

// Next returns the next frame. Its payload is a view into the connection's
// read buffer, valid only until the following call to Next. Before blocking
// on the socket, Next writes any frames queued with QueueWrite.
func (c *Conn) Next() (wire.Frame, error) {
	for {
		f, n, err := wire.ParseFrame(c.rb[c.r:c.w], c.maxFrame)
		if err != nil {
			return wire.Frame{}, err
		}
		if n > 0 {
			c.r += n
			return f, nil
		}
		if err := c.fill(); err != nil {
			return wire.Frame{}, err
		}
	}
}

// fill reads more bytes, compacting the unread tail to the buffer start
// when a whole frame might not fit after it.
func (c *Conn) fill() error {
	if len(c.pending) > 0 {
		if err := c.write(c.pending); err != nil {
			return err
		}
		c.pending = c.pending[:0]
	}
	if c.r == c.w {
		c.r, c.w = 0, 0
	} else if len(c.rb)-c.w < c.maxFrame+wire.Overhead {
		c.w = copy(c.rb, c.rb[c.r:c.w])
		c.r = 0
	}
	n, err := c.nc.Read(c.rb[c.w:])
	c.w += n
	if n > 0 {
		c.readNs = time.Now().UnixNano()
	}
	if n > 0 && err != nil {
		err = nil // deliver what arrived; the error repeats on the next read
	}
	return err
}

// ReadNs is the wall clock (UnixNano) of the last socket read: the arrival
// time of every frame returned since.
func (c *Conn) ReadNs() int64 { return c.readNs }

// QueueWrite appends frames to be written before the next blocking read,
// or at once when more than 16 KiB are queued.
func (c *Conn) QueueWrite(b []byte) error {
	c.pending = append(c.pending, b...)
	if len(c.pending) > 16<<10 {
		err := c.write(c.pending)
		c.pending = c.pending[:0]
		return err
	}
	return nil
}

// Flush writes queued frames now.
func (c *Conn) Flush() error {
	if len(c.pending) == 0 {
		return nil
	}
	err := c.write(c.pending)
	c.pending = c.pending[:0]
	return err
}
