package mgmt

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/warrenmq/warren/broker"
)

// ListenPrometheus binds addr for the Prometheus endpoints alone, as
// RabbitMQ's rabbitmq_prometheus listener on 15692 (no auth, as there).
func ListenPrometheus(addr string, b *broker.Broker) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	registerMetrics(mux, b)
	s := &Server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln, b: b}
	s.list("http/prometheus")
	return s, nil
}

// StartPrometheus serves the Prometheus endpoints on addr in the
// background and returns what stops it. An address that cannot be bound is
// logged, not fatal, as the management port's is.
func StartPrometheus(addr string, b *broker.Broker) (stop func(context.Context)) {
	s, err := ListenPrometheus(addr, b)
	if err != nil {
		slog.Error("prometheus listener", "err", err)
		return func(context.Context) {}
	}
	go func() { _ = s.Serve() }()
	slog.Info("prometheus listening", "http", s.Addr().String())
	return func(ctx context.Context) { _ = s.Shutdown(ctx) }
}
