package netio

import (
	"errors"
	"log/slog"
	"runtime/debug"
	"time"
)

// ErrConnClosed is returned by Serve once the connection is done: the
// transport closes the socket.
var ErrConnClosed = errors.New("netio: connection closed")

// Serve is the one function that drives a connection, whatever carries its
// bytes (gnet's loops, a net.Conn, a tls.Conn). It acts on every whole
// frame at the front of input, writes everything the connection produced
// with one Transport.Write, and returns how many bytes of input it used:
// the rest must be offered again, with more bytes behind it. It never keeps
// input. Call it from the connection's goroutine when bytes arrive and when
// the transport is woken (then input holds only what is still unused).
// After an error the transport closes the socket and calls Closed.
func (c *Conn) Serve(input []byte) (int, error) {
	// Queue stores read segment mappings on this goroutine; a mapping whose
	// file shrank must fail that queue (broker/store.go recoverFault), not
	// kill the process with SIGBUS. Per goroutine, and cheap to repeat.
	debug.SetPanicOnFault(true)
	n := c.Feed(input)
	c.countIn(n)
	if backlog := c.t.Buffered(); backlog > 0 && c.state < stateClosing {
		// The socket has not taken the last flush yet: keep this output
		// in our own buffer (bounded by outputBudget) rather than have the
		// transport copy it behind the backlog (write_hold.go).
		c.entry.SendPending.Store(uint64(backlog))
		c.holdOutput(backlog)
		if c.state == stateClosed {
			return n, ErrConnClosed
		}
		return n, nil
	}
	out := c.TakeOutput()
	if len(out) > 0 {
		c.lastSent.Store(time.Now().UnixNano())
		c.countOut(len(out))
		if _, err := c.t.Write(out); err != nil {
			c.ReturnOutput(out, 0)
			return n, err
		}
	}
	pending := c.t.Buffered()
	c.entry.SendPending.Store(uint64(pending))
	c.ReturnOutput(out, pending)
	if c.state == stateClosed {
		return n, ErrConnClosed
	}
	return n, nil
}

// accept starts a connection on t: it is ticked (heartbeats, timeouts)
// and closed by Stop from now on.
func (s *Server) accept(t Transport) *Conn {
	c := newConn(s, t)
	c.acceptedAt = time.Now().UnixNano()
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	slog.Info("accepting AMQP connection", "conn", c.id, "peer", addrString(t.RemoteAddr()), "local", addrString(t.LocalAddr()))
	return c
}

// release ends a connection whose socket is gone.
func (s *Server) release(c *Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	// After connection.close either way the close was agreed (or ours);
	// a socket lost before that was not.
	clean := c.state >= stateClosing
	c.unregister()
	c.Closed()
	args := []any{"conn", c.id, "peer", addrString(c.t.RemoteAddr()), "vhost", c.vhostName(), "user", c.userName()}
	switch why := c.closeWhy.Load(); {
	case why != nil:
		slog.Warn("closing AMQP connection", append(args, "reason", *why)...)
	case clean:
		slog.Info("closing AMQP connection", args...)
	default:
		slog.Warn("closing AMQP connection", append(args, "reason", "client unexpectedly closed TCP connection")...)
	}
}

// closeFor drops the socket without an AMQP close (the peer is gone or
// stuck), from any goroutine, and keeps why for the close log line.
func (c *Conn) closeFor(why string) {
	c.closeWhy.CompareAndSwap(nil, &why)
	c.t.Close()
}
