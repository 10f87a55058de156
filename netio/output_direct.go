package netio

import (
	"syscall"
	"time"
)

// A publish that delivers a little to a consumer on an idle connection
// writes it to that consumer's socket itself, at the end of its Feed,
// instead of waking the consumer's loop to do it: at moderate rates (case
// 7a, 10 k msg/s) every message cost a cross-loop wake-up (an eventfd
// write, the other loop's epoll return and its own write), and context
// switches were half of the broker's CPU. Big flushes still go to the
// consumer's loop, so at full speed the two loops keep sharing the work.
//
// Safety: the write happens under outMu, only while nothing else can be
// writing that socket: no flush taken and not yet returned (flushing), and
// nothing left in gnet's outbound buffer (backlog 0; gnet only gets bytes
// through Serve's Write, which flushing covers). directFD is the socket's
// descriptor, -1 for other transports (TLS, a connection served by its own
// goroutine) and from OnClose on: gnet closes the descriptor only after
// OnClose, which takes outMu, so a descriptor is never written after it
// was closed (and maybe reused).

// directFlushMax is the most a publisher writes to another connection's
// socket itself.
const directFlushMax = 16 << 10

// flushDirect writes c's pending output to its socket from another
// connection's goroutine. It reports whether c's loop no longer needs the
// wake the caller owes it: everything was written and no other work is
// waiting on the loop.
func (c *Conn) flushDirect() bool {
	c.outMu.Lock()
	b := c.out.buf
	fd := c.out.directFD
	if fd < 0 || c.out.flushing || len(b) == 0 || len(b) > directFlushMax || c.out.backlog.Load() != 0 {
		c.outMu.Unlock()
		return false
	}
	n, err := syscall.Write(fd, b)
	for err == syscall.EINTR {
		n, err = syscall.Write(fd, b)
	}
	if n < 0 {
		n = 0
	}
	if n > 0 {
		c.lastSent.Store(time.Now().UnixNano())
		c.countOut(n)
		c.out.directFlushes++
	}
	if n < len(b) {
		// The socket is full, or failed: the loop writes the rest, in
		// order, or finds the error.
		rest := copy(b, b[n:])
		c.out.buf = b[:rest]
		c.out.pending.Store(int64(rest))
		c.outMu.Unlock()
		return false
	}
	c.out.buf = b[:0]
	c.out.pending.Store(0)
	c.noteBusyLocked(0)
	done := !c.work.Load()
	if done {
		c.out.scheduled = false
	}
	c.outMu.Unlock()
	return done
}

// endDirect stops direct writes to c's socket: gnet is about to close it.
// On c's loop (OnClose).
func (c *Conn) endDirect() {
	c.outMu.Lock()
	c.out.directFD = -1
	c.outMu.Unlock()
}
