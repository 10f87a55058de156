package main

import (
	"fmt"
	"log/slog"
	"net"
	"slices"

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

// authMechanisms is auth_mechanisms.* for netio (nil: RabbitMQ's default,
// PLAIN and AMQPLAIN, with EXTERNAL when certificate login is on). An
// -auth-external flag beats a file whose list leaves EXTERNAL out.
func authMechanisms(c *config.Config, external bool) []string {
	ms := c.Mechanisms()
	if ms != nil && external && !slices.Contains(ms, "EXTERNAL") {
		ms = append(ms, "EXTERNAL")
	}
	return ms
}
