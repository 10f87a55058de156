package main

import (
	"fmt"
	"log/slog"
	"net"

	"github.com/warrenmq/warren/cmd/warren/config"
	"github.com/warrenmq/warren/netio"
)

// serveMoreListeners opens the AMQP listeners after the first
// (listeners.tcp.<name> as RabbitMQ allows any number of them) on srv,
// which must be Ready. Stop closes them. A listener that cannot be opened
// fails the start, as in RabbitMQ.
func serveMoreListeners(srv *netio.Server, ls []config.NamedListener) error {
	for _, l := range ls {
		ln, err := net.Listen("tcp", l.Addr())
		if err != nil {
			return fmt.Errorf("amqp listener %s (listeners.tcp.%s): %w", l.Addr(), l.Name, err)
		}
		go func() { _ = srv.ServeListener(ln) }()
		slog.Info("amqp listening", "amqp", ln.Addr().String(), "listener", "listeners.tcp."+l.Name)
	}
	return nil
}
