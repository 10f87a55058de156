package netio

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// Transport is what a Conn needs from the socket beneath it.
type Transport interface {
	// Wake asks the transport to call Feed (possibly with no bytes) and flush
	// on the connection's own goroutine. Safe from any goroutine.
	Wake()
	// Close closes the socket after flushing what is pending. Any goroutine.
	Close()
	// Write sends b from the connection's goroutine; whatever the socket
	// does not take at once the transport copies and sends later, so b is
	// free again when Write returns.
	Write(b []byte) (int, error)
	// Buffered is how many bytes Write accepted that are not sent yet.
	Buffered() int
	RemoteAddr() net.Addr
	LocalAddr() net.Addr
}

type connState uint8

const (
	stateHeader connState = iota // waiting for the protocol header
	stateStartOk
	stateSecureOk
	stateTuneOk
	stateOpen
	stateOpened
	stateClosing // we sent connection.close and wait for close-ok
	// stateDone ignores all input until the socket goes: we sent close-ok
	// (the client closes it), or we gave up on the peer (a frame error, a
	// failed handshake) and the deadline closes it.
	stateDone
	stateClosed // nothing more is read
)

// Server-side limits offered in connection.tune.
const (
	DefaultFrameMax   = 131072
	DefaultChannelMax = 2047
	DefaultHeartbeat  = 60
	// DefaultHandshakeTimeout is RabbitMQ's handshake_timeout.
	DefaultHandshakeTimeout = 10 * time.Second
)

// How long RabbitMQ 3.x waits before it drops a peer it gave up on.
const (
	// closeOkTimeout bounds the wait for close-ok after our connection.close
	// (RabbitMQ's CLOSING_TIMEOUT).
	closeOkTimeout = 30 * time.Second
	// silentCloseDelay is how long a peer that failed before tune-ok, or
	// broke the framing, waits for the socket to close while nothing it
	// sends is read (RabbitMQ's SILENT_CLOSE_DELAY): failed logins cannot
	// be retried at full speed.
	silentCloseDelay = 3 * time.Second
)

// Conn is one AMQP connection's protocol state machine.
type Conn struct {
	id     uint64
	t      Transport
	srv    *Server
	b      *broker.Broker
	vhost  *broker.VHost
	state  connState
	closed atomic.Bool
	// assembly counts the bytes its channels reserved for large bodies.
	assembly assemblyBudget
	// admitted: the connection holds a slot of its vhost's and user's
	// max-connections (limits_vhost_user.go).
	admitted bool

	// principal is who the connection acts as, from start-ok on; every
	// broker call on the client's behalf passes it.
	principal *broker.Principal

	frameMax    uint32
	channelMax  uint16
	heartbeat   atomic.Uint32 // seconds; read by the ticker
	clientCaps  frame.Table
	clientProps frame.Table
	// authMechanism is the mechanism start-ok logged in with, as one of
	// the offered names (not the frame's bytes).
	authMechanism string

	channels channelTable

	entry      broker.ConnEntry       // the broker registry's view: info and counters
	acceptedAt int64                  // unix nanos
	closeWhy   atomic.Pointer[string] // why we dropped the socket ourselves (closeFor)

	lastRecv      atomic.Int64 // unix nanos of the last bytes read
	nowMilli      int64        // read time of the bytes being fed, for message timestamps
	lastSent      atomic.Int64
	closeDeadline atomic.Int64 // unix nanos; close-ok must arrive by then (0: not closing)
	// handshakeDeadline is when a peer that has not opened the connection
	// is dropped (unix nanos; 0 once open).
	handshakeDeadline atomic.Int64
	// hasUnacked: some channel may hold unacked deliveries, so the ticker
	// checks consumer timeouts (limits_consumer_timeout.go) no earlier
	// than nextTimeoutCheck (unix nanos, the ticker's own).
	hasUnacked       atomic.Bool
	nextTimeoutCheck int64
	// stallSent and stallSince (ticker's own) tell a client that stopped
	// reading (limits_stall.go).
	stallSent  uint64
	stallSince int64

	outMu sync.Mutex
	out   output

	mailMu sync.Mutex
	mail   []func()
	// work is set by other goroutines that left something for the loop
	// (mail, a completed sync); the loop re-checks it after each flush so
	// nothing posted during Feed waits for the next read.
	work atomic.Bool

	flow blockState // resource alarms (blocked.go)

	confirmSub func() // cancels the commit watermark subscription
	// holdInput: a reply waits for a definitions commit (afterCommit);
	// later frames stay unread until it goes out.
	holdInput bool

	scratchQueues  []*broker.Queue
	deferredWakes  []*Conn         // consumers' loops to wake once this Feed ends
	carry          []byte          // a frame the last read split (carry.go); on the loop
	carryHeld      atomic.Bool     // carry has a buffer, for releaseIdle on the ticker
	afterFlush     []*broker.Queue // queues to dispatch once this Feed's output is written
	scratchPosList []broker.Ticket
}

func newConn(srv *Server, t Transport) *Conn {
	c := &Conn{
		id:         srv.b.NewConnID(),
		t:          t,
		srv:        srv,
		b:          srv.b,
		frameMax:   DefaultFrameMax,
		channelMax: DefaultChannelMax,
	}
	c.out.directFD = -1
	now := time.Now().UnixNano()
	c.lastRecv.Store(now)
	c.lastSent.Store(now)
	c.handshakeDeadline.Store(now + int64(srv.cfg.HandshakeTimeout))
	return c
}

// post runs f on the connection's loop at its next wake-up.
func (c *Conn) post(f func()) {
	c.mailMu.Lock()
	c.mail = append(c.mail, f)
	c.mailMu.Unlock()
	c.work.Store(true)
	c.kick()
}

func (c *Conn) runMail() {
	c.mailMu.Lock()
	m := c.mail
	c.mail = nil
	c.mailMu.Unlock()
	for _, f := range m {
		f()
	}
}

// Feed consumes whole frames from p and acts on them. It returns how many
// bytes it used; the rest must be offered again with more data. It never
// keeps p. After Feed the transport must flush TakeOutput.
func (c *Conn) Feed(p []byte) int {
	c.beginFeed()
	defer c.wakeDeferred()
	c.dispatchAfterFlush()
	c.doWork()
	if len(p) > 0 {
		now := time.Now()
		c.lastRecv.Store(now.UnixNano())
		c.nowMilli = now.UnixMilli()
	}
	used := 0
	if c.state == stateHeader {
		n, ok := c.readProtocolHeader(p)
		used += n
		if !ok {
			return used
		}
		p = p[n:]
	}
	if c.state == stateDone {
		return used + len(p)
	}
	for len(p) > 0 && c.state < stateDone && !c.holdInput && !c.flow.blocked {
		f, n, err := frame.Parse(p, c.frameMaxIn())
		if err != nil && n == 0 {
			c.frameError(asAMQP(err, frame.FrameError))
			return used + len(p)
		}
		if err != nil {
			// A bad frame that is still delimited: close, and keep reading
			// for close-ok, as RabbitMQ does.
			used += n
			p = p[n:]
			c.connError(asAMQP(err, frame.FrameError), 0, 0)
			continue
		}
		if n == 0 {
			break
		}
		used += n
		p = p[n:]
		if err := c.handleFrame(f); err != nil {
			c.fail(err, f.Channel)
		}
	}
	if c.state >= stateDone {
		return used + len(p)
	}
	// Frames above may have posted work to ourselves (a queue deleted under
	// our own consumer); do it before the flush.
	if c.work.Load() {
		c.doWork()
	}
	c.flushConfirms()
	return used
}

func (c *Conn) doWork() {
	c.work.Store(false)
	c.runMail()
	c.settleConfirms()
}

// frameMaxIn is the largest frame accepted: before tune-ok the spec's
// minimum applies to the handshake, but clients may send larger start-ok
// frames, so be generous there.
func (c *Conn) frameMaxIn() uint32 {
	if c.state < stateOpen {
		return DefaultFrameMax
	}
	return c.frameMax
}

func (c *Conn) readProtocolHeader(p []byte) (int, bool) {
	if len(p) < 8 {
		// A wrong first byte can be refused before 8 bytes arrive.
		if len(p) > 0 && p[0] != 'A' {
			c.refuseProtocol()
		}
		return 0, false
	}
	if string(p[:8]) != string(frame.ProtocolHeader[:]) {
		c.refuseProtocol()
		return len(p), false
	}
	c.sendStart()
	c.state = stateStartOk
	return 8, true
}

// refuseProtocol answers with the protocol we speak and closes, as the spec asks.
func (c *Conn) refuseProtocol() {
	c.appendLoop(func(b []byte) []byte { return append(b, frame.ProtocolHeader[:]...) })
	c.state = stateClosed
	c.t.Close()
}

func (c *Conn) handleFrame(f frame.Frame) error {
	switch c.state {
	case stateClosing:
		return c.handleWhileClosing(f)
	case stateStartOk, stateSecureOk, stateTuneOk, stateOpen:
		return c.handleHandshake(f)
	}
	switch f.Type {
	case frame.FrameHeartbeat:
		if f.Channel != 0 {
			return frame.Errorf(frame.UnexpectedFrame, "heartbeat frame on channel %d", f.Channel)
		}
		return nil
	case frame.FrameMethod:
		if f.Channel == 0 {
			return c.handleConnectionMethod(f.Payload)
		}
		ch := c.channels.get(f.Channel)
		if ch == nil {
			return c.handleUnopenedChannel(f)
		}
		return ch.handleMethod(f.Payload)
	case frame.FrameHeader, frame.FrameBody:
		if f.Channel == 0 {
			return frame.Errorf(frame.UnexpectedFrame, "content frame on channel 0")
		}
		ch := c.channels.get(f.Channel)
		if ch == nil {
			return frame.Errorf(frame.UnexpectedFrame, "expected method frame, got non method frame instead")
		}
		if f.Type == frame.FrameHeader {
			return ch.handleHeader(f.Payload)
		}
		return ch.handleBody(f.Payload)
	}
	return frame.Errorf(frame.FrameError, "unknown frame type %d", f.Type)
}

// fail turns an error from frame handling into a channel or connection
// exception, as RabbitMQ does.
func (c *Conn) fail(err error, chID uint16) {
	e := asAMQP(err, frame.InternalError)
	if !e.Hard() && chID != 0 {
		if ch := c.channels.get(chID); ch != nil {
			ch.channelError(e)
			return
		}
	}
	c.connError(e, e.ClassID, e.MethodID)
}

func asAMQP(err error, def uint16) *frame.Error {
	var e *frame.Error
	if errors.As(err, &e) {
		return e
	}
	return &frame.Error{Code: def, Text: err.Error()}
}

// connError sends connection.close and waits for close-ok (or a timeout),
// as RabbitMQ 3.x does once the peer reached connection.open. Before that
// RabbitMQ does not trust the peer: it answers nothing and drops the socket
// after silentCloseDelay, except for a refused login the client asked to
// hear about (authentication_failure_close), which gets its 403 and the
// same delay to answer close-ok.
func (c *Conn) connError(e *frame.Error, classID, methodID uint16) {
	if c.state >= stateClosing {
		return
	}
	if e.ClassID == 0 {
		e.ClassID, e.MethodID = classID, methodID
	}
	slog.Debug("connection error", "conn", c.id, "code", e.Code, "text", e.Error())
	wait := closeOkTimeout
	if c.state < stateOpen {
		if e.Code != frame.AccessRefused || !c.authFailureClose() {
			c.giveUp()
			return
		}
		wait = silentCloseDelay
	}
	c.sendClose(e)
	c.state = stateClosing
	c.closeDeadline.Store(time.Now().Add(wait).UnixNano())
}

// frameError answers a frame that broke the framing (too large, bad
// frame-end). After it nothing the peer sends can be read as frames, so, as
// RabbitMQ, the close is sent (from connection.open on) and the socket
// dropped after silentCloseDelay, close-ok or not.
func (c *Conn) frameError(e *frame.Error) {
	if c.state >= stateClosing {
		return
	}
	slog.Debug("connection frame error", "conn", c.id, "text", e.Error())
	if c.state < stateOpen {
		c.giveUp()
		return
	}
	c.sendClose(e)
	c.state = stateDone
	c.closeDeadline.Store(time.Now().Add(silentCloseDelay).UnixNano())
}

// giveUp stops reading and drops the socket after silentCloseDelay without
// a word: RabbitMQ's answer to a peer that fails before tune-ok.
func (c *Conn) giveUp() {
	c.teardownChannels()
	c.state = stateDone
	c.closeDeadline.Store(time.Now().Add(silentCloseDelay).UnixNano())
}

func (c *Conn) sendClose(e *frame.Error) {
	c.sendMethod(0, &frame.ConnectionClose{ReplyCode: e.Code, ReplyText: truncText(e.Error()), ClassID: e.ClassID, MethodID: e.MethodID})
	c.teardownChannels()
	c.readAgain()
}

// authFailureClose reports whether the client announced the
// authentication_failure_close capability in start-ok.
func (c *Conn) authFailureClose() bool {
	v, _ := c.clientCaps["authentication_failure_close"].(bool)
	return v
}

func truncText(s string) string {
	if len(s) > 255 {
		return s[:255]
	}
	return s
}

func (c *Conn) handleWhileClosing(f frame.Frame) error {
	if f.Type != frame.FrameMethod || f.Channel != 0 {
		return nil
	}
	id, err := frame.MethodID(f.Payload)
	if err != nil {
		return nil
	}
	switch id {
	case frame.IDConnectionCloseOk:
		c.state = stateClosed
		c.t.Close()
	case frame.IDConnectionClose:
		c.sendMethod(0, &frame.ConnectionCloseOk{})
		c.state = stateDone
	}
	return nil
}

// sendMethod writes a method frame from the connection's loop.
func (c *Conn) sendMethod(ch uint16, m frame.Method) {
	c.appendLoop(func(b []byte) []byte { return frame.AppendMethodFrame(b, ch, m) })
}

// Closed is called by the transport once the socket is gone: every channel
// is torn down (unacked messages requeued) and exclusive queues deleted.
func (c *Conn) Closed() {
	if c.closed.Swap(true) {
		return
	}
	c.state = stateClosed
	c.runMail()
	c.teardownChannels()
	if c.confirmSub != nil {
		c.confirmSub()
	}
	if c.vhost != nil {
		c.vhost.ConnectionClosed(c.id)
	}
	c.releaseOutput()
}

func (c *Conn) teardownChannels() {
	for _, ch := range c.channels.open {
		ch.teardown()
	}
	c.channels = channelTable{}
}

// ForceClose sends connection.close 320 CONNECTION_FORCED (shutdown).
func (c *Conn) ForceClose(reason string) {
	c.post(func() {
		if c.state == stateOpened {
			c.connError(frame.Errorf(frame.ConnectionForced, "%s", reason), 0, 0)
		} else if c.state != stateClosed {
			c.state = stateClosed
			c.t.Close()
		}
	})
}

// tick runs about once a second on the server's ticker goroutine: it sends
// heartbeats and closes peers that went silent.
func (c *Conn) tick(now time.Time) {
	if c.closed.Load() {
		return
	}
	hb := time.Duration(c.heartbeat.Load()) * time.Second
	if c.inputBlocked() {
		c.wakeToMove()
	} else if hb > 0 {
		if now.Sub(time.Unix(0, c.lastRecv.Load())) > 2*hb {
			c.closeFor("missed heartbeats from client, timeout: " + (2 * hb).String())
			return
		}
		if now.Sub(time.Unix(0, c.lastSent.Load())) >= hb/2 {
			c.lastSent.Store(now.UnixNano())
			b := c.lockOut()
			c.unlockOut(frame.AppendHeartbeat(b))
		}
	}
	c.tickConsumerTimeout(now)
	c.tickWriteStall(now)
	if c.needsDrainCheck() {
		c.t.Wake()
	} else if now.Sub(time.Unix(0, c.lastSent.Load())) > 2*time.Second {
		c.releaseIdle()
	}
	if d := c.closeDeadline.Load(); d != 0 && now.UnixNano() > d {
		c.t.Close()
	}
	if d := c.handshakeDeadline.Load(); d != 0 && now.UnixNano() > d {
		c.handshakeDeadline.Store(0)
		c.closeFor("handshake timeout after " + c.srv.cfg.HandshakeTimeout.String())
	}
}
