// Package mgmt serves Warren's HTTP side: /metrics (Prometheus text
// format), /healthz, and the RabbitMQ-compatible management API (api.go;
// so far /api/policies and /api/operator-policies).
package mgmt

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/warrenmq/warren/broker"
)

// Server is the HTTP listener.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// Listen binds addr and prepares the handlers.
func Listen(addr string, b *broker.Broker) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	registerMetrics(mux, b) // metrics.go
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	newAPI(b, mux).registerPolicies()
	return &Server{srv: &http.Server{Handler: escapedPaths(mux), ReadHeaderTimeout: 10 * time.Second}, ln: ln}, nil
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
	err := s.srv.Serve(tls.NewListener(s.ln, cfg))
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops the listener.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }
