package broker

import (
	"strings"

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

// ExchangeDeclareOptions are exchange.declare's fields.
type ExchangeDeclareOptions struct {
	Name       string
	Type       string // direct, fanout, topic or headers
	Passive    bool
	Durable    bool
	AutoDelete bool
	Internal   bool
	Args       frame.Table
}

// ExchangeDeclare is exchange.declare.
func (v *VHost) ExchangeDeclare(p *Principal, o ExchangeDeclareOptions) error {
	name := o.Name
	if name == "" {
		return frame.Errorf(frame.AccessRefused, "operation not permitted on the default exchange")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	x, ok := v.exchanges[name]
	if o.Passive {
		if !ok {
			return notFoundExchange(v, name)
		}
		return nil
	}
	kind, known := router.ParseKind(o.Type)
	if !known {
		return frame.Errorf(frame.CommandInvalid, "unknown exchange type '%s'", o.Type)
	}
	if ok {
		return checkExchangeEquivalent(v, x, o)
	}
	if strings.HasPrefix(name, "amq.") {
		return frame.Errorf(frame.AccessRefused, "exchange name '%s' contains reserved prefix 'amq.*'", name)
	}
	if err := v.router.AddExchange(name, kind); err != nil {
		return frame.Errorf(frame.PreconditionFailed, "%v", err)
	}
	v.exchanges[name] = &Exchange{Name: name, Type: o.Type, Kind: kind, Durable: o.Durable, AutoDelete: o.AutoDelete, Internal: o.Internal, Args: o.Args}
	v.topoGen.Add(1)
	if o.Durable {
		v.b.saveDefinitionsLocked(v)
	}
	return nil
}

func checkExchangeEquivalent(v *VHost, x *Exchange, o ExchangeDeclareOptions) error {
	field, rcv, cur := "", "", ""
	switch {
	case x.Type != o.Type:
		field, rcv, cur = "type", o.Type, x.Type
	case x.Durable != o.Durable:
		field, rcv, cur = "durable", boolStr(o.Durable), boolStr(x.Durable)
	case x.AutoDelete != o.AutoDelete:
		field, rcv, cur = "auto_delete", boolStr(o.AutoDelete), boolStr(x.AutoDelete)
	case x.Internal != o.Internal:
		field, rcv, cur = "internal", boolStr(o.Internal), boolStr(x.Internal)
	default:
		return nil
	}
	return frame.Errorf(frame.PreconditionFailed,
		"inequivalent arg '%s' for exchange '%s' in vhost '%s': received '%s' but current is '%s'",
		field, x.Name, v.Name, rcv, cur)
}

// ExchangeDeleteOptions are exchange.delete's conditions.
type ExchangeDeleteOptions struct {
	IfUnused bool // refuse while the exchange is the source of a binding
}

// ExchangeDelete is exchange.delete; deleting a missing exchange succeeds.
func (v *VHost) ExchangeDelete(p *Principal, name string, o ExchangeDeleteOptions) error {
	if name == "" {
		return frame.Errorf(frame.AccessRefused, "operation not permitted on the default exchange")
	}
	if strings.HasPrefix(name, "amq.") {
		return frame.Errorf(frame.AccessRefused, "deletion of system exchange '%s' in vhost '%s' not allowed", name, v.Name)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	x, ok := v.exchanges[name]
	if !ok {
		return nil
	}
	if o.IfUnused && v.router.HasBindings(name) {
		return frame.Errorf(frame.PreconditionFailed, "exchange '%s' in vhost '%s' in use", name, v.Name)
	}
	v.deleteExchangeLocked(x)
	return nil
}

func (v *VHost) deleteExchangeLocked(x *Exchange) {
	v.router.RemoveExchange(x.Name)
	delete(v.exchanges, x.Name)
	v.topoGen.Add(1)
	if x.Durable {
		v.b.saveDefinitionsLocked(v)
	}
}

// autoDeleteExchangesLocked removes auto-delete exchanges that lost their
// last binding as a source.
func (v *VHost) autoDeleteExchangesLocked(names []string) {
	for _, n := range names {
		if x, ok := v.exchanges[n]; ok && x.AutoDelete && !v.router.HasBindings(n) {
			v.deleteExchangeLocked(x)
		}
	}
}
