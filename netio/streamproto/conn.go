package streamproto

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// Connection states.
const (
	stInit   = iota // peer properties, SASL handshake
	stAuthed        // authenticated, tune sent
	stOpen          // vhost open
)

// readBufSize is the reader's buffer: a frame that fits is decoded in
// place; a larger one (up to frame max) is read into a scratch buffer.
const readBufSize = 256 << 10

// writeBudget is how many bytes of deliveries the writer gathers before
// it writes.
const writeBudget = 512 << 10

// conn is one stream connection: serve runs the reader (commands), and a
// writer goroutine owns the socket's write side (responses, confirms,
// deliveries, heartbeats).
type conn struct {
	s  *Server
	nc net.Conn
	br *bufio.Reader

	state     int
	principal *broker.Principal
	vhost     *broker.VHost
	frameMax  atomic.Uint32
	heartbeat atomic.Int64 // negotiated, nanoseconds; 0: none
	advHost   string
	advPort   int

	// mu guards out (frames waiting for the writer), the publishers'
	// pending confirms, subs, closing.
	mu       sync.Mutex
	out      []byte
	confirms []pendingConfirm
	confIDs  []uint64
	subs     map[uint8]*subscription
	closing  bool
	closeAt  time.Time
	wake     chan struct{}
	done     chan struct{}
	wdone    chan struct{}
	lastSent atomic.Int64 // unix nanos of the last write
	lastRecv atomic.Int64

	// Reader goroutine only.
	pubs       map[uint8]*publisher
	scratch    []byte // frames larger than the buffer
	data       []byte // chunk data being built
	ids        []uint64
	dups       []uint64
	corr       uint32           // server-initiated requests (consumer update)
	pendCU     map[uint32]uint8 // guarded by mu
	pendActive map[uint32]bool
	cancelW    func()

	// Writer goroutine only: entries gathered from the mappings (writer.go).
	parts     []gpart
	partBytes int
	iov       [][]byte
	gathered  atomic.Uint64 // chunks written from the mapping (tests read it)
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc, br: bufio.NewReaderSize(nc, readBufSize),
		subs: map[uint8]*subscription{}, pubs: map[uint8]*publisher{},
		wake: make(chan struct{}, 1), done: make(chan struct{}), wdone: make(chan struct{}),
		pendCU: map[uint32]uint8{}, pendActive: map[uint32]bool{}}
	c.frameMax.Store(s.cfg.FrameMax)
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	c.advHost, c.advPort = s.cfg.AdvertisedHost, s.cfg.AdvertisedPort
	if host, port, err := net.SplitHostPort(nc.LocalAddr().String()); err == nil {
		if c.advHost == "" {
			c.advHost = host
		}
		if c.advPort == 0 {
			c.advPort, _ = strconv.Atoi(port)
		}
	}
	now := time.Now().UnixNano()
	c.lastRecv.Store(now)
	c.lastSent.Store(now)
	return c
}

func (c *conn) kick() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// send queues an encoded frame (or several) for the writer.
func (c *conn) send(build func(b []byte) []byte) {
	c.mu.Lock()
	c.out = build(c.out)
	c.mu.Unlock()
	c.kick()
}

// closeWith sends a close request and closes the connection shortly
// after, whether or not the client answers.
func (c *conn) closeWith(code uint16, reason string) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closing = true
	c.corr++
	c.out = AppendClose(c.out, c.corr, code, reason)
	c.closeAt = time.Now().Add(time.Second)
	c.mu.Unlock()
	c.kick()
	go func() {
		select {
		case <-c.wdone:
		case <-time.After(2 * time.Second):
		}
		_ = c.nc.Close()
	}()
}

func (c *conn) serve() {
	defer c.cleanup()
	c.cancelW = c.s.b.Watermark().Subscribe(func(uint64) {
		c.mu.Lock()
		pending := len(c.confirms) > 0
		c.mu.Unlock()
		if pending {
			c.kick()
		}
	})
	go c.writeLoop()
	deadline := time.Now().Add(c.s.cfg.HandshakeTimeout)
	_ = c.nc.SetReadDeadline(deadline)
	for {
		if c.state == stOpen {
			if hb := time.Duration(c.heartbeat.Load()); hb > 0 {
				_ = c.nc.SetReadDeadline(time.Now().Add(3 * hb))
			} else {
				_ = c.nc.SetReadDeadline(time.Time{})
			}
		}
		f, err := c.readFrame()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				logDebug("read", "remote", c.nc.RemoteAddr().String(), "err", err)
			}
			return
		}
		c.lastRecv.Store(time.Now().UnixNano())
		if !c.handle(f) {
			return
		}
	}
}

var errFrameTooLarge = errors.New("frame too large")

// readFrame returns the next frame without its size prefix, as a view
// valid until the next call.
func (c *conn) readFrame() ([]byte, error) {
	h, err := c.br.Peek(4)
	if err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(h))
	if uint32(n) > c.frameMax.Load() || n < 4 {
		c.closeWith(CodeFrameTooLarge, "frame too large")
		return nil, errFrameTooLarge
	}
	if 4+n <= c.br.Size() {
		b, err := c.br.Peek(4 + n)
		if err != nil {
			return nil, err
		}
		_, _ = c.br.Discard(4 + n)
		return b[4:], nil
	}
	if _, err := c.br.Discard(4); err != nil {
		return nil, err
	}
	if cap(c.scratch) < n {
		c.scratch = make([]byte, n)
	}
	c.scratch = c.scratch[:n]
	if _, err := io.ReadFull(c.br, c.scratch); err != nil {
		return nil, err
	}
	return c.scratch, nil
}

// handle runs one frame; false closes the connection.
func (c *conn) handle(f []byte) bool {
	r := reader{b: f}
	key := r.u16()
	version := r.u16()
	if r.bad {
		c.closeWith(CodeUnknownFrame, "frame too short")
		return true
	}
	// Frames valid in every state.
	switch key {
	case KeyHeartbeat:
		return true
	case KeyClose:
		corr := r.u32()
		c.send(func(b []byte) []byte { return AppendResponse(b, KeyClose, corr, CodeOK) })
		c.mu.Lock()
		c.closing = true
		c.mu.Unlock()
		c.kick()
		return false
	case KeyClose | ResponseFlag:
		return false
	case KeyPeerProperties:
		return c.peerProperties(&r)
	}
	switch c.state {
	case stInit:
		switch key {
		case KeySaslHandshake:
			corr := r.u32()
			c.send(func(b []byte) []byte {
				return AppendStrListResponse(b, KeySaslHandshake, corr, CodeOK, []string{"PLAIN"})
			})
			return true
		case KeySaslAuthenticate:
			return c.authenticate(&r)
		}
	case stAuthed:
		switch key {
		case KeyTune, KeyTune | ResponseFlag: // clients send their tune as the answer to ours
			fm, hb := r.u32(), r.u32()
			if r.bad {
				break
			}
			if fm != 0 && fm < c.frameMax.Load() {
				c.frameMax.Store(max(fm, minFrameMax))
			}
			c.heartbeat.Store(int64(time.Duration(hb) * time.Second))
			return true
		case KeyOpen:
			return c.open(&r)
		}
	case stOpen:
		if ok, known := c.command(key, version, &r); known {
			return ok
		}
		if key&ResponseFlag != 0 {
			if key == KeyConsumerUpdate|ResponseFlag {
				c.consumerUpdateResponse(&r)
				return true
			}
			return true // a response we do not wait for
		}
	}
	slog.Debug("stream: unexpected frame", "key", key, "state", c.state, "remote", c.nc.RemoteAddr().String())
	c.closeWith(CodeUnknownFrame, "unknown or unexpected frame "+strconv.Itoa(int(key)))
	return true
}

func (c *conn) peerProperties(r *reader) bool {
	corr := r.u32()
	_ = r.strMap()
	if r.bad {
		c.closeWith(CodeUnknownFrame, "malformed peer properties")
		return true
	}
	props := [][2]string{
		{"product", "Warren"},
		{"version", c.s.cfg.Version},
		{"platform", "Go"},
		{"copyright", "Warren authors"},
		{"information", "RabbitMQ stream protocol, served by Warren"},
		{"cluster_name", "warren"},
	}
	c.send(func(b []byte) []byte { return AppendStrMapResponse(b, KeyPeerProperties, corr, CodeOK, props) })
	return true
}

func isLoopback(a net.Addr) bool {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.IsLoopback()
	}
	return false
}

func (c *conn) authenticate(r *reader) bool {
	corr := r.u32()
	mech := r.strv()
	resp := r.bytesv()
	if r.bad {
		c.closeWith(CodeUnknownFrame, "malformed sasl authenticate")
		return true
	}
	if string(mech) != "PLAIN" {
		c.send(func(b []byte) []byte {
			return AppendResponse(b, KeySaslAuthenticate, corr, CodeSaslMechanismNotSupported)
		})
		return true
	}
	// PLAIN: authzid NUL authcid NUL password.
	parts := bytes.SplitN(resp, []byte{0}, 3)
	if len(parts) != 3 {
		c.send(func(b []byte) []byte { return AppendResponse(b, KeySaslAuthenticate, corr, CodeSaslError) })
		return true
	}
	p, err := c.s.b.Users().Authenticate(string(parts[1]), string(parts[2]), isLoopback(c.nc.RemoteAddr()))
	c.s.b.AuthAttempts().Record(broker.AuthStream, c.nc.RemoteAddr(), string(parts[1]), err == nil)
	if err != nil {
		code := CodeAuthenticationFailure
		if errors.Is(err, broker.ErrLoopbackOnly) {
			code = CodeSaslAuthFailureLoopback
		}
		slog.Warn("stream: login refused", "user", string(parts[1]), "remote", c.nc.RemoteAddr().String(), "err", err)
		c.send(func(b []byte) []byte { return AppendResponse(b, KeySaslAuthenticate, corr, code) })
		c.closeWith(code, "authentication failure")
		return true
	}
	c.principal = p
	c.state = stAuthed
	hb := uint32(0)
	if c.s.cfg.Heartbeat > 0 {
		hb = uint32(c.s.cfg.Heartbeat / time.Second)
	}
	fm := c.s.cfg.FrameMax
	c.send(func(b []byte) []byte {
		b = AppendResponse(b, KeySaslAuthenticate, corr, CodeOK)
		return AppendTune(b, fm, hb)
	})
	return true
}

func (c *conn) open(r *reader) bool {
	corr := r.u32()
	name := r.str()
	if r.bad {
		c.closeWith(CodeUnknownFrame, "malformed open")
		return true
	}
	v, ok := c.s.b.VHost(name)
	if !ok || !c.s.b.Users().CanAccessVHost(c.principal.User, name) {
		c.send(func(b []byte) []byte { return AppendResponse(b, KeyOpen, corr, CodeVirtualHostAccessFailure) })
		c.closeWith(CodeVirtualHostAccessFailure, "virtual host access failure")
		return true
	}
	c.vhost = v
	c.principal.VHost = name
	c.state = stOpen
	props := [][2]string{{"advertised_host", c.advHost}, {"advertised_port", strconv.Itoa(c.advPort)}}
	c.send(func(b []byte) []byte { return AppendStrMapResponse(b, KeyOpen, corr, CodeOK, props) })
	return true
}

// command runs a command of the open state; known is false for keys it
// does not serve.
func (c *conn) command(key, version uint16, r *reader) (ok, known bool) {
	switch key {
	case KeyPublish:
		c.publish(r, version)
	case KeyDeclarePublisher:
		c.declarePublisher(r)
	case KeyQueryPublisherSequence:
		c.queryPublisherSequence(r)
	case KeyDeletePublisher:
		c.deletePublisher(r)
	case KeySubscribe:
		c.subscribe(r)
	case KeyCredit:
		c.credit(r)
	case KeyUnsubscribe:
		c.unsubscribe(r)
	case KeyStoreOffset:
		c.storeOffset(r)
	case KeyQueryOffset:
		c.queryOffset(r)
	case KeyCreate:
		c.createStream(r)
	case KeyDelete:
		c.deleteStream(r)
	case KeyMetadata:
		c.metadata(r)
	case KeyRoute:
		c.route(r)
	case KeyPartitions:
		c.partitions(r)
	case KeyCreateSuperStream:
		c.createSuperStream(r)
	case KeyDeleteSuperStream:
		c.deleteSuperStream(r)
	case KeyExchangeCommandVersion:
		c.exchangeVersions(r)
	case KeyStreamStats:
		c.streamStats(r)
	case KeyConsumerUpdate | ResponseFlag:
		c.consumerUpdateResponse(r)
	default:
		return true, false
	}
	return true, true
}

// malformed answers a frame whose fields do not parse: a response with
// the code when it had a correlation id, then a close, as a broker cannot
// trust the rest of the stream.
func (c *conn) malformed(key uint16, corr uint32, hasCorr bool) {
	if hasCorr {
		c.send(func(b []byte) []byte { return AppendResponse(b, key, corr, CodeUnknownFrame) })
	}
	c.closeWith(CodeUnknownFrame, "malformed frame "+strconv.Itoa(int(key)))
}

func (c *conn) exchangeVersions(r *reader) {
	corr := r.u32()
	n := r.count(6)
	for range n {
		r.u16()
		r.u16()
		r.u16()
	}
	if r.bad {
		c.malformed(KeyExchangeCommandVersion, corr, true)
		return
	}
	vs := make([]CommandVersion, 0, 30)
	for k := KeyDeclarePublisher; k <= KeyDeleteSuperStream; k++ {
		maxV := uint16(1)
		if k == KeyPublish {
			maxV = 2
		}
		vs = append(vs, CommandVersion{Key: k, Min: 1, Max: maxV})
	}
	c.send(func(b []byte) []byte { return AppendCommandVersions(b, corr, vs) })
}

// streamCode is the response code for a broker error.
func streamCode(err error) uint16 {
	var fe *frame.Error
	switch {
	case err == nil:
		return CodeOK
	case errors.Is(err, broker.ErrStreamNotFound), errors.Is(err, broker.ErrNotAStream), errors.Is(err, broker.ErrStreamDeleted):
		return CodeStreamDoesNotExist
	case errors.As(err, &fe):
		switch fe.Code {
		case frame.AccessRefused:
			return CodeAccessRefused
		case frame.NotFound:
			return CodeStreamDoesNotExist
		case frame.PreconditionFailed, frame.ResourceLocked:
			return CodePreconditionFailed
		}
	}
	return CodeInternalError
}

// cleanup releases everything the connection holds.
func (c *conn) cleanup() {
	c.mu.Lock()
	c.closing = true
	subs := make([]*subscription, 0, len(c.subs))
	for _, s := range c.subs {
		subs = append(subs, s)
	}
	c.subs = map[uint8]*subscription{}
	c.mu.Unlock()
	for _, s := range subs {
		c.s.sac.leave(s)
		s.close()
	}
	for id := range c.pubs {
		c.dropPublisher(id)
	}
	if c.cancelW != nil {
		c.cancelW()
	}
	c.kick()
	select {
	case <-c.wdone:
	case <-time.After(2 * time.Second):
	}
	close(c.done)
	_ = c.nc.Close()
}
