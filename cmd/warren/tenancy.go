package main

import (
	"slices"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/cmd/warren/config"
)

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

// defaultLimits is default_limits.vhosts.* for the broker.
func defaultLimits(c *config.Config) []broker.DefaultLimits {
	var out []broker.DefaultLimits
	for _, d := range c.DefaultLimits {
		l := broker.Limits{}
		if d.MaxConnections != nil {
			l[broker.LimitMaxConnections] = int(*d.MaxConnections)
		}
		if d.MaxQueues != nil {
			l[broker.LimitMaxQueues] = int(*d.MaxQueues)
		}
		out = append(out, broker.DefaultLimits{Pattern: d.Pattern, Limits: l})
	}
	return out
}
