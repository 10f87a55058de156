package broker

import (
	"github.com/warrenmq/warren/frame"
	"github.com/warrenmq/warren/router"
)

// Exchange is an exchange's declared properties; its bindings live in the
// vhost's router.
type Exchange struct {
	Name       string
	Type       string
	Kind       router.Kind
	Durable    bool
	AutoDelete bool
	Internal   bool
	Args       frame.Table
}

// defaultExchanges are declared in every vhost, as RabbitMQ does.
var defaultExchanges = []Exchange{
	{Name: "", Type: "direct", Durable: true},
	{Name: "amq.direct", Type: "direct", Durable: true},
	{Name: "amq.fanout", Type: "fanout", Durable: true},
	{Name: "amq.topic", Type: "topic", Durable: true},
	{Name: "amq.headers", Type: "headers", Durable: true},
	{Name: "amq.match", Type: "headers", Durable: true},
}
