package netio

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// DefaultAMQPSPort is RabbitMQ's listeners.ssl.default.
const DefaultAMQPSPort = 5671

// ServeTLS accepts AMQPS connections on ln until it is closed (by Stop, or
// by the caller): each runs its TLS handshake, bounded by the handshake
// timeout, on a goroutine of its own and then the AMQP protocol through
// ServeConn, the same state machine as plain connections. Call it once
// the Server is Ready.
func (s *Server) ServeTLS(ln net.Listener, certs *TLSCerts) error {
	s.mu.Lock()
	s.tlsListeners = append(s.tlsListeners, ln)
	s.mu.Unlock()
	if s.stopping.Load() {
		_ = ln.Close()
	}
	defer s.b.AddListener("amqp/ssl", ln.Addr())() // listed in management's overview
	cfg := certs.Config()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), acceptBackoffMax)
			if isFDShortage(err) {
				s.fdRefused.note(err, 0)
			} else {
				slog.Warn("amqps accept failed; retrying", "err", err, "in", backoff)
			}
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		go s.serveTLSConn(tls.Server(nc, cfg))
	}
}

func (s *Server) serveTLSConn(tc *tls.Conn) {
	_ = tc.SetDeadline(time.Now().Add(s.cfg.TLSHandshakeTimeout))
	if err := tc.Handshake(); err != nil {
		slog.Warn("TLS handshake failed", "peer", addrString(tc.RemoteAddr()), "err", err)
		_ = tc.Close()
		return
	}
	_ = tc.SetDeadline(time.Time{})
	if s.stopping.Load() {
		_ = tc.Close()
		return
	}
	s.ServeConn(tc)
}

// ListenTLS binds addr for ServeTLS.
func ListenTLS(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("amqps listener %s: %w", addr, err)
	}
	return ln, nil
}
