package netio

import (
	"log/slog"
	"net"
	"os"
	"sync/atomic"

	"github.com/panjf2000/gnet/v2"
)

// gnet v2 cannot stop reading a socket: its loop reads on every EPOLLIN and
// appends whatever OnTraffic leaves to the connection's unbounded inbound
// buffer (eventloop_unix.go read), and its poller is internal. So a
// connection that must stop being read leaves gnet: its socket is
// duplicated into a net.Conn served by its own goroutine (ServeConn's
// loop), and the gnet side is closed, which closes only gnet's descriptor.
// That goroutine reads only while the connection is not blocked, so the
// kernel's receive buffer fills, the TCP window closes and the client's
// writes block. The connection stays on its goroutine afterwards.
//
// The move needs gnet's outbound buffer empty (gnet's close drops what is
// left there); until it is, the input waits in gnet's buffer, which the
// ticker checks: past blockedInputMax the connection is dropped.

// blockedInputMax bounds what a blocked connection that does not read its
// own output can leave in gnet's inbound buffer before it can move.
const blockedInputMax = 4 << 20

// moveOffLoop is called by OnTraffic after Serve; it reports whether gnet
// must close its side because the connection moved.
func (s *Server) moveOffLoop(gc gnet.Conn, c *Conn, gt *gnetTransport) bool {
	if !c.flow.blocked || c.flow.moving || c.state >= stateClosing {
		return false
	}
	if gc.OutboundBuffered() > 0 {
		if gc.InboundBuffered() > blockedInputMax {
			c.closeFor("blocked publisher neither reads its output nor stops sending")
		}
		return false
	}
	nc, err := dupConn(gc)
	if err != nil {
		// Stay on gnet, unread input growing: better than dropping a
		// client for our own failure, and logged.
		slog.Warn("blocked connection cannot leave its event loop", "conn", c.id, "err", err)
		return false
	}
	rest, _ := gc.Peek(-1)
	in := append(append([]byte(nil), c.takeCarry()...), rest...)
	nt := newNetTransport(nc)
	gt.moved.Store(nt)
	c.flow.moving = true
	c.flow.input = in
	return true
}

// wakeToMove makes a blocked gnet connection that could not move yet try
// again (from the ticker).
func (c *Conn) wakeToMove() {
	if gt, ok := c.t.(*gnetTransport); ok && gt.moved.Load() == nil {
		c.t.Wake()
	}
}

// dupConn is a net.Conn on a duplicate of gc's socket.
func dupConn(gc gnet.Conn) (net.Conn, error) {
	fd, err := gc.Dup()
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "amqp")
	defer f.Close() // FileConn holds its own duplicate
	return net.FileConn(f)
}

// movedTransport is where a gnetTransport forwards once its connection
// left gnet: Wake and Close come from any goroutine, after the move too.
type movedTransport = atomic.Pointer[netTransport]
