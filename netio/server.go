package netio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/warrenmq/warren/broker"
)

// Config is the listener's settings.
type Config struct {
	Addr      string // host:port for AMQP
	Heartbeat uint16 // seconds offered in connection.tune; 0 = DefaultHeartbeat
	// NoHeartbeat offers 0 in connection.tune, as RabbitMQ's heartbeat = 0
	// does: no heartbeats unless the client asks for them.
	NoHeartbeat bool
	NodeName    string
	Loops       int // event loops; 0 = one per CPU
	// HandshakeTimeout is how long a peer has from connecting to
	// connection.open; a peer still short of it is dropped without a word.
	// 0 means DefaultHandshakeTimeout (RabbitMQ's handshake_timeout).
	HandshakeTimeout time.Duration
	// TLSHandshakeTimeout is how long an AMQPS peer has for the TLS
	// handshake, before HandshakeTimeout starts (RabbitMQ's
	// ssl_handshake_timeout); 0 means DefaultTLSHandshakeTimeout.
	TLSHandshakeTimeout time.Duration
	// FrameMax and ChannelMax are offered in connection.tune (RabbitMQ's
	// frame_max and channel_max); 0 means DefaultFrameMax, DefaultChannelMax.
	FrameMax   uint32
	ChannelMax uint16
	// CertLogin enables EXTERNAL authentication on TLS connections with a
	// verified client certificate (tls_external.go); nil: not offered.
	CertLogin *CertLogin
	// AuthMechanisms is RabbitMQ's auth_mechanisms: what connection.start
	// offers and start-ok may choose (auth_mechanisms.go); nil means
	// DefaultAuthMechanisms, with EXTERNAL when CertLogin is set.
	AuthMechanisms []string
	// ConsumerTimeout closes a channel whose oldest unacked delivery is
	// older (RabbitMQ's consumer_timeout); 0 means DefaultConsumerTimeout.
	ConsumerTimeout time.Duration
	// ConnectionMax refuses connections past this many (RabbitMQ's
	// connection_max); 0 means no limit.
	ConnectionMax int
	// WriteStallTimeout closes a connection whose pending output has not
	// moved for this long; 0 means DefaultWriteStallTimeout.
	WriteStallTimeout time.Duration
}

// Server is the AMQP listener: a gnet engine whose loops run Conns.
type Server struct {
	gnet.BuiltinEventEngine
	cfg  Config
	b    *broker.Broker
	eng  gnet.Engine
	done chan struct{}
	// assembly counts the bytes all connections reserved for large bodies.
	assembly assemblyBudget

	ln        net.Listener // ours, not gnet's: see accept.go
	idleDir   string       // holds gnet's idle listener until OnBoot
	started   sync.Once    // the first tick starts the accept loop
	stopping  atomic.Bool  // Stop was called: the engine's exit is expected
	fdRefused refusals
	floods    floodLog      // connections closed at accept past ConnectionMax
	replies   replyRegistry // direct reply-to consumers by reply key

	tlsListeners []net.Listener // ServeTLS's, closed by Stop (under mu)

	mu    sync.Mutex
	conns map[*Conn]struct{}
	ready chan struct{}
}

// NewServer prepares a listener for b.
func NewServer(cfg Config, b *broker.Broker) *Server {
	switch {
	case cfg.NoHeartbeat:
		cfg.Heartbeat = 0
	case cfg.Heartbeat == 0:
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.NodeName == "" {
		cfg.NodeName = "localhost"
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.TLSHandshakeTimeout == 0 {
		cfg.TLSHandshakeTimeout = DefaultTLSHandshakeTimeout
	}
	if cfg.FrameMax == 0 {
		cfg.FrameMax = DefaultFrameMax
	}
	if cfg.ChannelMax == 0 {
		cfg.ChannelMax = DefaultChannelMax
	}
	if cfg.WriteStallTimeout <= 0 {
		cfg.WriteStallTimeout = DefaultWriteStallTimeout
	}
	if cfg.ConsumerTimeout <= 0 {
		cfg.ConsumerTimeout = DefaultConsumerTimeout
	}
	return &Server{cfg: cfg, b: b, conns: make(map[*Conn]struct{}), ready: make(chan struct{}), done: make(chan struct{})}
}

// Run serves until Stop; it returns the engine's error, or an error saying
// the engine stopped by itself if it did so before Stop.
func (s *Server) Run() error {
	// Go's listeners set SO_REUSEADDR, so restarts rebind while old
	// connections sit in TIME_WAIT.
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		close(s.done)
		return err
	}
	s.ln = ln
	opts := []gnet.Option{
		gnet.WithMulticore(true),
		gnet.WithLoadBalancing(gnet.LeastConnections),
		gnet.WithReadBufferCap(256 << 10),
		gnet.WithWriteBufferCap(256 << 10),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithTicker(true),
		gnet.WithLogger(newGnetLogger()),
	}
	if s.cfg.Loops > 0 {
		opts = append(opts, gnet.WithNumEventLoop(s.cfg.Loops))
	}
	// gnet's loops serve only what acceptLoop registers, but an engine
	// without a listener refuses Register and Stop (Engine.Validate), so it
	// gets a Unix socket in a private directory. OnBoot, which runs once the
	// socket is bound, removes the directory: the socket stays open and
	// nobody can dial it, and a kill -9 leaves nothing behind in /tmp.
	idleDir, err := os.MkdirTemp("", "warren-gnet-")
	if err != nil {
		_ = ln.Close()
		close(s.done)
		return err
	}
	s.idleDir = idleDir
	stopAlarms := s.watchAlarms()
	defer stopAlarms()
	err = gnet.Run(s, "unix://"+filepath.Join(idleDir, "idle.sock"), opts...)
	_ = ln.Close()
	_ = os.RemoveAll(idleDir)
	close(s.done)
	if err == nil && !s.stopping.Load() {
		err = errors.New("gnet engine stopped by itself")
	}
	return err
}

// Ready is closed once the listener accepts connections.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// OnBoot implements gnet.EventHandler.
func (s *Server) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	_ = os.RemoveAll(s.idleDir)
	return gnet.None
}

// OnOpen implements gnet.EventHandler.
func (s *Server) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	c := s.accept(&gnetTransport{gc: gc, local: connLocalAddr(gc)})
	c.outMu.Lock()
	c.out.directFD = gc.Fd()
	c.outMu.Unlock()
	gc.SetContext(c)
	return nil, gnet.None
}

// OnClose implements gnet.EventHandler.
func (s *Server) OnClose(gc gnet.Conn, _ error) gnet.Action {
	debug.SetPanicOnFault(true)
	if c, ok := gc.Context().(*Conn); ok {
		c.endDirect() // gnet closes its descriptor after this
		if c.flow.moving {
			// Only gnet's descriptor closes: the connection goes on, read
			// by its own goroutine (blocked_move.go).
			c.flow.moving = false
			go s.runNet(c, c.t.(*gnetTransport).moved.Load(), c.flow.input)
			c.flow.input = nil
			return gnet.None
		}
		s.release(c)
	}
	return gnet.None
}

// OnTraffic implements gnet.EventHandler: Serve the bytes gnet holds, as
// views into its buffer (no copy), and discard what was used.
func (s *Server) OnTraffic(gc gnet.Conn) gnet.Action {
	c, ok := gc.Context().(*Conn)
	if !ok {
		return gnet.Close
	}
	buf, _ := gc.Peek(-1)
	if len(c.carry) > 0 {
		// The frame the last read split (carry.go) comes first.
		k := c.completeCarry(buf)
		if k > 0 {
			_, _ = gc.Discard(k)
			buf = buf[k:]
		}
		if !c.carryReady() || !c.feedCarry() {
			buf = nil // still partial, or held: the rest waits in gnet
		}
	}
	n, err := c.Serve(buf)
	if c.keepCarry(buf[n:]) {
		n = len(buf)
	}
	if n > 0 {
		_, _ = gc.Discard(n)
	}
	if err != nil {
		return gnet.Close
	}
	if c.flow.blocked && s.moveOffLoop(gc, c, c.t.(*gnetTransport)) {
		return gnet.Close
	}
	return gnet.None
}

// OnTick implements gnet.EventHandler: heartbeats, drain checks, close timeouts.
func (s *Server) OnTick() (time.Duration, gnet.Action) {
	// gnet calls OnBoot before its loops exist and starts the ticker after,
	// so the first tick is where Register can first succeed.
	s.started.Do(func() {
		go s.acceptLoop(s.ln)
		close(s.ready)
	})
	now := time.Now()
	advanceTimeoutClock(now)
	s.mu.Lock()
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.tick(now)
	}
	releasedLarge(outPool.trim())
	return 100 * time.Millisecond, gnet.None
}

// Stop closes every connection with 320 CONNECTION_FORCED, waits briefly for
// them to go, and stops the engine.
func (s *Server) Stop(ctx context.Context) error {
	s.stopping.Store(true)
	if s.ln != nil {
		_ = s.ln.Close()
	}
	s.mu.Lock()
	for _, ln := range s.tlsListeners {
		_ = ln.Close()
	}
	for c := range s.conns {
		c.ForceClose("broker shutdown")
	}
	s.mu.Unlock()
	for {
		s.mu.Lock()
		n := len(s.conns)
		s.mu.Unlock()
		if n == 0 || ctx.Err() != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	err := s.eng.Stop(ctx)
	<-s.done
	return err
}

func (s *Server) authenticate(user, pass string, remote net.Addr) (*broker.Principal, error) {
	p, err := s.b.Users().Authenticate(user, pass, isLoopback(remote))
	s.b.AuthAttempts().Record(broker.AuthAMQP, remote, user, err == nil)
	switch {
	case errors.Is(err, broker.ErrLoopbackOnly):
		slog.Warn("user '"+user+"' can only connect via localhost", "remote", fmt.Sprint(remote))
	case err != nil:
		slog.Warn("login refused", "user", user, "remote", fmt.Sprint(remote))
	}
	return p, err
}

// gnetTransport adapts a gnet.Conn to Transport.
// Once its connection moved off gnet (blocked_move.go), it forwards to
// the connection's netTransport.
type gnetTransport struct {
	gc    gnet.Conn
	local net.Addr
	moved movedTransport
	wakes atomic.Uint64 // wakes sent to this connection's loop (tests)
}

func (t *gnetTransport) Wake() {
	if m := t.moved.Load(); m != nil {
		m.Wake()
		return
	}
	t.wakes.Add(1)
	_ = t.gc.Wake(nil)
}

func (t *gnetTransport) Close() {
	if m := t.moved.Load(); m != nil {
		m.Close()
		return
	}
	_ = t.gc.Close()
}

func (t *gnetTransport) RemoteAddr() net.Addr {
	if m := t.moved.Load(); m != nil {
		return m.RemoteAddr()
	}
	return t.gc.RemoteAddr()
}
func (t *gnetTransport) LocalAddr() net.Addr { return t.local }

// Write is gnet's synchronous write: on the loop, it copies what the socket
// does not take into gnet's outbound buffer.
func (t *gnetTransport) Write(b []byte) (int, error) {
	if m := t.moved.Load(); m != nil {
		return m.Write(b)
	}
	return t.gc.Write(b)
}

func (t *gnetTransport) Buffered() int {
	if m := t.moved.Load(); m != nil {
		return m.Buffered()
	}
	return t.gc.OutboundBuffered()
}
