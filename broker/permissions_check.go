package broker

import (
	"github.com/warrenmq/warren/frame"
	"github.com/warrenmq/warren/router"
)

// The checks each vhost operation makes, after RabbitMQ's access-control
// table (https://www.rabbitmq.com/access-control.html): one hook call per
// operation in queues.go, exchanges.go, bindings.go, vhost.go and
// publish.go, the logic here. A nil principal is the broker itself.

// goneErr answers an operation that reached a vhost being deleted, whose
// connections are being closed: nothing may be created in it meanwhile
// (declares and binds are checked under its mu, which the deletion holds
// while it sets gone).
func goneErr(v *VHost) error {
	return frame.Errorf(frame.NotFound, "no vhost '%s'", v.Name)
}

func refused(v *VHost, p *Principal, kind, name string) error {
	return frame.Errorf(frame.AccessRefused, "access to %s '%s' in vhost '%s' refused for user '%s'", kind, name, v.Name, p.User)
}

// permitExchange checks verb on an exchange. The default exchange is
// checked, and named, as "amq.default", as in RabbitMQ.
func (v *VHost) permitExchange(p *Principal, verb permVerb, name string) error {
	if p == nil {
		return nil
	}
	if name == "" {
		name = "amq.default"
	}
	if !v.b.cfg.Users.allowed(p.User, v.Name, verb, name) {
		return refused(v, p, "exchange", name)
	}
	return nil
}

func (v *VHost) permitQueue(p *Principal, verb permVerb, name string) error {
	if p == nil || v.b.cfg.Users.allowed(p.User, v.Name, verb, name) {
		return nil
	}
	return refused(v, p, "queue", name)
}

// permitTopic checks a routing or binding key against the user's topic
// permission on a topic exchange (write to publish, read to bind).
func (v *VHost) permitTopic(p *Principal, verb permVerb, x *Exchange, key string) error {
	if p == nil || x == nil || x.Kind != router.KindTopic {
		return nil
	}
	tp := v.b.cfg.Users.topicPermission(p.User, v.Name, x.Name)
	if tp == nil || tp.allows(verb, key) {
		return nil
	}
	return refusedTopic(v, p, x, key)
}

func refusedTopic(v *VHost, p *Principal, x *Exchange, key string) error {
	return frame.Errorf(frame.AccessRefused, "access to topic '%s' in exchange '%s' in vhost '%s' refused for user '%s'", key, x.Name, v.Name, p.User)
}

func (tp *topicPerm) allows(verb permVerb, key string) bool {
	if verb == permWrite {
		return tp.write.MatchString(key)
	}
	return tp.read.MatchString(key)
}

// permitQueueDeclare is queue.declare's check (not passive): configure on
// the queue (its generated name for a server-named one) and, with a
// dead-letter exchange, read on the queue and write on that exchange.
func (v *VHost) permitQueueDeclare(p *Principal, name string, args frame.Table) error {
	if v.gone.Load() {
		return goneErr(v)
	}
	if p == nil {
		return nil
	}
	if err := v.permitQueue(p, permConfigure, name); err != nil {
		return err
	}
	if dlx, ok := args["x-dead-letter-exchange"].(string); ok {
		if err := v.permitQueue(p, permRead, name); err != nil {
			return err
		}
		return v.permitExchange(p, permWrite, dlx)
	}
	return nil
}

// permitExchangeDeclare is exchange.declare's check (not passive):
// configure on the exchange, and for a new one with an alternate exchange,
// read on it and write on the alternate.
func (v *VHost) permitExchangeDeclare(p *Principal, name string, args frame.Table, exists bool) error {
	if v.gone.Load() {
		return goneErr(v)
	}
	if err := v.permitExchange(p, permConfigure, name); err != nil || exists || p == nil {
		return err
	}
	if ae, ok := args["alternate-exchange"].(string); ok {
		if err := v.permitExchange(p, permRead, name); err != nil {
			return err
		}
		return v.permitExchange(p, permWrite, ae)
	}
	return nil
}

// permitBind is the check of queue.bind/unbind and exchange.bind/unbind:
// write on the destination, read on the source, then the topic read
// permission on the binding key. v.mu held (the source is looked up).
func (v *VHost) permitBindLocked(p *Principal, b Binding, destIsExchange bool) error {
	if v.gone.Load() {
		return goneErr(v)
	}
	if p == nil {
		return nil
	}
	var err error
	if destIsExchange {
		err = v.permitExchange(p, permWrite, b.Destination)
	} else {
		err = v.permitQueue(p, permWrite, b.Destination)
	}
	if err != nil {
		return err
	}
	if b.Source == "" || (destIsExchange && b.Destination == "") {
		return frame.Errorf(frame.AccessRefused, "operation not permitted on the default exchange")
	}
	if err := v.permitExchange(p, permRead, b.Source); err != nil {
		return err
	}
	return v.permitTopic(p, permRead, v.exchanges[b.Source], b.Key)
}

// publishPermission is what a channel remembers of its last publish
// check: valid while the exchange and the users' generation are the same.
type publishPermission struct {
	gen   uint64
	x     *Exchange
	topic *topicPerm // the topic permission to check each key against, if any
}

// permitPublish checks write on the exchange, once per exchange and
// permission change per channel, and the routing key against a topic
// permission, if the user has one there.
func (v *VHost) permitPublish(p *Principal, x *Exchange, key []byte, c *publishPermission) error {
	if p == nil {
		return nil
	}
	users := v.b.cfg.Users
	if gen := users.gen.Load(); c.gen != gen || c.x != x {
		if err := v.permitExchange(p, permWrite, x.Name); err != nil {
			return err
		}
		c.gen, c.x, c.topic = gen, x, nil
		if x.Kind == router.KindTopic {
			c.topic = users.topicPermission(p.User, v.Name, x.Name)
		}
	}
	if c.topic != nil && !c.topic.write.Match(key) {
		return refusedTopic(v, p, x, string(key))
	}
	return nil
}

// permitQueueRedeclare is the check of a declare that finds its queue: a
// passive one needs nothing, as in RabbitMQ; else as permitQueueDeclare.
func (v *VHost) permitQueueRedeclare(p *Principal, o QueueDeclareOptions) error {
	if o.Passive {
		return nil
	}
	return v.permitQueueDeclare(p, o.Name, o.Args)
}
