// Package mgmt serves Warren's HTTP side: /metrics (Prometheus text
// format), /healthz, and the RabbitMQ-compatible management API (api.go
// and a file per resource: overview, connections, policies).
package mgmt

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/warrenmq/warren/broker"
)

// Config is what the management listener serves and reports.
type Config struct {
	Addr string // host:port to listen on
	// AMQP is the bound AMQP listener, reported in /api/overview's
	// listeners (clients and test suites look for their port there).
	AMQP net.Addr
	// Node names the broker node ("warren@host"); empty: warren@localhost.
	Node string
	// Version is the broker's version string.
	Version string
}

// Server is the HTTP listener.
type Server struct {
	srv   *http.Server
	ln    net.Listener
	rates *rates

	// The listener as the broker lists it (broker/listeners.go): listed
	// once bound, as "http" or "http/prometheus", and again as "https"...
	// when served with TLS.
	b        *broker.Broker
	protocol string
	unlist   func()
}

// list (re)lists s's listener with the broker under protocol.
func (s *Server) list(protocol string) {
	if s.unlist != nil {
		s.unlist()
	}
	s.protocol, s.unlist = protocol, s.b.AddListener(protocol, s.ln.Addr())
}

// Listen binds addr and prepares the handlers, with no AMQP listener to
// report.
func Listen(addr string, b *broker.Broker) (*Server, error) {
	return ListenConfig(Config{Addr: addr}, b)
}

// ListenConfig binds cfg.Addr and prepares the handlers.
func ListenConfig(cfg Config, b *broker.Broker) (*Server, error) {
	if cfg.Node == "" {
		cfg.Node = "warren@localhost"
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	registerMetrics(mux, b) // metrics.go
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	a := newAPI(b, mux)
	a.cfg, a.http, a.started, a.rates = cfg, ln.Addr(), time.Now(), newRates(b)
	a.registerPolicies()
	a.registerOverview()
	a.registerConnections()
	a.registerQueues()
	a.registerExchanges()
	a.registerBindings()
	a.registerAccess()
	a.registerChannels()
	a.registerHealth()
	a.registerDefinitions()
	a.registerLimits()           // limits.go
	a.registerParameters()       // parameters.go
	a.registerGlobalParameters() // global_parameters.go
	a.registerAuthAttempts()     // auth_attempts.go
	registerUI(mux)              // ui.go: the web UI at /
	s := &Server{srv: &http.Server{Handler: escapedPaths(mux), ReadHeaderTimeout: 10 * time.Second}, ln: ln, rates: a.rates, b: b}
	s.list("http")
	return s, nil
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve blocks until Shutdown.
func (s *Server) Serve() error {
	err := s.srv.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// ServeTLS is Serve over HTTPS with cfg (which may pick its certificate
// per handshake, for reloads).
func (s *Server) ServeTLS(cfg *tls.Config) error {
	s.list(strings.Replace(s.protocol, "http", "https", 1))
	err := s.srv.Serve(tls.NewListener(s.ln, cfg))
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops the listener.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if s.unlist != nil {
		s.unlist()
	}
	if s.rates != nil { // the Prometheus-only server has no sampler
		s.rates.close()
	}
	return err
}
