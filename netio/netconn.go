package netio

import (
	"net"
	"sync/atomic"
)

// ServeConn runs one AMQP connection over nc (a TCP or crypto/tls
// connection from a listener of the caller's) until it closes, through the
// same Serve as gnet's loops. The connection is the Server's like any other:
// ticked for heartbeats and timeouts by the running engine, closed by Stop.
//
// Its goroutine is the connection's loop: it calls Serve for bytes read and
// for wake-ups. Writes block that goroutine (deliveries from other loops
// still only append to the output buffer, bounded by outputBudget).
func (s *Server) ServeConn(nc net.Conn) {
	t := newNetTransport(nc)
	s.runNet(s.accept(t), t, nil)
}

func newNetTransport(nc net.Conn) *netTransport {
	return &netTransport{nc: nc, wake: make(chan struct{}, 1)}
}

// runNet is the loop of c over t, starting with the unused input in.
// While c is blocked by an alarm it takes nothing from the reader, which
// then holds one read at most: the socket's receive buffer fills and the
// peer's writes block (blocked_move.go).
func (s *Server) runNet(c *Conn, t *netTransport, in []byte) {
	reads := make(chan []byte)
	back := make(chan struct{})
	readErr := make(chan error, 1)
	quit := make(chan struct{})
	go t.readLoop(reads, back, readErr, quit)

	t.Wake() // work posted while the connection moved here
	for {
		r := reads
		if c.flow.blocked {
			r = nil
		}
		select {
		case b := <-r:
			in = append(in, b...)
			back <- struct{}{} // the read buffer is free again
		case <-t.wake:
		case <-readErr:
			t.closing.Store(true)
		}
		n, err := c.Serve(in)
		in = in[:copy(in, in[n:])]
		if err != nil || t.closing.Load() {
			break
		}
	}
	close(quit)
	_ = t.nc.Close()
	s.release(c)
}

// netTransport is Transport over a net.Conn served by ServeConn.
type netTransport struct {
	nc      net.Conn
	wake    chan struct{} // one pending wake-up is enough
	closing atomic.Bool   // Close asked; the loop closes after its flush
}

// readLoop reads into one buffer and lends it to the loop, which copies
// what it needs and hands it back before the next read.
func (t *netTransport) readLoop(reads chan<- []byte, back <-chan struct{}, readErr chan<- error, quit <-chan struct{}) {
	buf := make([]byte, 64<<10)
	for {
		n, err := t.nc.Read(buf)
		if n > 0 {
			select {
			case reads <- buf[:n]:
			case <-quit:
				return
			}
			<-back
		}
		if err != nil {
			readErr <- err
			return
		}
	}
}

func (t *netTransport) Wake() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Close is asynchronous like gnet's: the loop closes the socket once the
// output of the Serve in progress is written.
func (t *netTransport) Close() {
	t.closing.Store(true)
	t.Wake()
}

func (t *netTransport) Write(b []byte) (int, error) { return t.nc.Write(b) }
func (t *netTransport) Buffered() int               { return 0 }
func (t *netTransport) RemoteAddr() net.Addr        { return t.nc.RemoteAddr() }
func (t *netTransport) LocalAddr() net.Addr         { return t.nc.LocalAddr() }
