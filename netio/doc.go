// Package netio is Warren's network layer: the gnet listener and the
// per-connection AMQP 0-9-1 state machine (handshake, tune, heartbeats,
// channels, flow, publishing and delivering).
//
// The state machine (Conn) is transport-agnostic: Conn.Serve is the one
// function that drives it, given the bytes a transport read; it writes what
// the connection produced through the Transport. gnet's loops call it from
// OnTraffic (server.go, the only file that knows gnet) and ServeConn calls
// it for a net.Conn, which is how a crypto/tls listener plugs in.
//
// Threading: a Conn's protocol state (channels, handshake, content assembly)
// is touched only by its own event-loop goroutine. Deliveries are written by
// whichever goroutine made a message deliverable (another connection's loop
// publishing into a queue this connection consumes), under the channel's mu
// and the connection's outMu; such writers wake the loop, which flushes all
// pending output in one write. Lock order: Queue.mu → channel.mu → Conn.outMu
// (all of it in docs/LOCKS.md).
package netio
