package streamproto

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/warrenmq/warren/broker"
)

// Config is the stream listener's configuration.
type Config struct {
	// AdvertisedHost and AdvertisedPort are what metadata and open tell
	// clients to connect to (RabbitMQ's stream.advertised_host/port).
	// Empty/0: the address the client reached, so a client always gets an
	// address it can connect to.
	AdvertisedHost string
	AdvertisedPort int
	// FrameMax is the largest frame the server accepts and proposes in
	// tune (0: 1 MiB, RabbitMQ's default); Heartbeat the heartbeat it
	// proposes (0: 60 s; negative: none).
	FrameMax  uint32
	Heartbeat time.Duration
	// HandshakeTimeout bounds the time from accept to open (0: 10 s).
	HandshakeTimeout time.Duration
	// Version is what peer properties report as the server version. The
	// stream client reads RabbitMQ's version from it to pick features
	// (3.11: single active consumer; 3.13: super stream commands,
	// filtering), so it starts with the RabbitMQ version whose stream
	// protocol Warren speaks.
	Version string
}

// ServerVersion is the version string peer properties report by default.
const ServerVersion = "3.13.7-warren"

const (
	defaultFrameMax  = 1 << 20
	defaultHeartbeat = 60 * time.Second
	minFrameMax      = 8192
)

// Server serves the stream protocol over listeners handed to Serve.
type Server struct {
	cfg Config
	b   *broker.Broker

	mu     sync.Mutex
	lns    map[net.Listener]struct{}
	conns  map[*conn]struct{}
	closed bool
	wg     sync.WaitGroup

	sac   *sacCoordinator
	dedup *dedupRegistry
}

// NewServer returns a server over b.
func NewServer(cfg Config, b *broker.Broker) *Server {
	if cfg.FrameMax == 0 {
		cfg.FrameMax = defaultFrameMax
	}
	cfg.FrameMax = max(cfg.FrameMax, minFrameMax)
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = defaultHeartbeat
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	if cfg.Version == "" {
		cfg.Version = ServerVersion
	}
	return &Server{cfg: cfg, b: b, lns: map[net.Listener]struct{}{}, conns: map[*conn]struct{}{},
		sac: newSACCoordinator(), dedup: newDedupRegistry()}
}

// ErrServerClosed is what Serve returns after Close.
var ErrServerClosed = errors.New("streamproto: server closed")

// Serve accepts connections on ln until Close, each served by its own
// goroutines.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ln.Close()
		return ErrServerClosed
	}
	s.lns[ln] = struct{}{}
	s.mu.Unlock()
	defer s.b.AddListener("stream", ln.Addr())() // listed in management's overview
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTemporary(err)) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		c := newConn(s, nc)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = nc.Close()
			return ErrServerClosed
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			c.serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// errTemporary treats accept errors like EMFILE as transient: the loop
// backs off rather than stopping the listener.
func errTemporary(err error) error {
	type temporary interface{ Temporary() bool }
	if t, ok := err.(temporary); ok && t.Temporary() {
		return err
	}
	return nil
}

// Close stops the listeners and closes every connection (with a close
// frame), waiting for their goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for ln := range s.lns {
		_ = ln.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.closeWith(CodeOK, "broker shutdown")
	}
	s.wg.Wait()
	return nil
}

// Connections is the number of open stream connections.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func logDebug(msg string, args ...any) { slog.Debug("stream: "+msg, args...) }
