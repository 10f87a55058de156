package main

import (
	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/cmd/warren/config"
)

// users is the user table the config seeds a fresh data dir with:
// default_user with default_user_tags and default_permissions on
// default_vhost, as RabbitMQ creates them on a fresh node. A data dir that
// already holds definitions.json keeps its own users (broker.Open loads
// them into this table). loopback_users is configuration and applies to
// whatever users there are.
func users(c *config.Config) *broker.Users {
	u := broker.NewUsers()
	u.Add(broker.User{Name: c.DefaultUser, Password: c.DefaultPass, Tags: c.DefaultUserTags})
	p := c.DefaultPermissions
	u.SetPermissions(broker.Permission{User: c.DefaultUser, VHost: c.DefaultVHost, Configure: p.Configure, Write: p.Write, Read: p.Read})
	var loopback []string
	for name, only := range c.LoopbackUsers {
		if only {
			loopback = append(loopback, name)
		}
	}
	u.SetLoopbackUsers(loopback)
	return u
}
