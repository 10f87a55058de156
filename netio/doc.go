// Package netio is Warren's network layer: the gnet listener and the
// per-connection AMQP 0-9-1 state machine (handshake, tune, heartbeats,
// channels, flow, publishing and delivering).
//
// The state machine (Conn) is transport-agnostic: a transport feeds it bytes
// with Feed and flushes what it produced with TakeOutput, so a crypto/tls
// listener can drive the same code later. Only server.go knows gnet.
//
// Threading: a Conn's protocol state (channels, handshake, content assembly)
// is touched only by its own event-loop goroutine. Deliveries are written by
// whichever goroutine made a message deliverable (another connection's loop
// publishing into a queue this connection consumes), under the channel's mu
// and the connection's outMu; such writers wake the loop, which flushes all
// pending output in one write. Lock order: Queue.mu → channel.mu → Conn.outMu.
package netio
