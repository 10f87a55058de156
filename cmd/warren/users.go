package main

import (
	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/config"
)

// users is the user table the config describes. Warren keeps no user
// database yet, so default_user is the one user, created at every start
// (RabbitMQ creates it on a fresh node); it is loopback-only when
// loopback_users names it, as guest is by default.
func users(c *config.Config) *broker.Users {
	u := broker.NewUsers()
	u.Add(broker.User{
		Name:         c.DefaultUser,
		Password:     c.DefaultPass,
		Tags:         c.DefaultUserTags,
		LoopbackOnly: c.LoopbackUsers[c.DefaultUser],
	})
	return u
}
