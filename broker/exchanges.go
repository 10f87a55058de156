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

// ExchangeDeclare is exchange.declare.
func (v *VHost) ExchangeDeclare(name, typ string, passive, durable, autoDelete, internal bool, args frame.Table) error {
	if name == "" {
		return frame.Errorf(frame.AccessRefused, "operation not permitted on the default exchange")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	x, ok := v.exchanges[name]
	if passive {
		if !ok {
			return notFoundExchange(v, name)
		}
		return nil
	}
	kind, known := router.ParseKind(typ)
	if !known {
		return frame.Errorf(frame.CommandInvalid, "unknown exchange type '%s'", typ)
	}
	if ok {
		return checkExchangeEquivalent(v, x, typ, durable, autoDelete, internal)
	}
	if strings.HasPrefix(name, "amq.") {
		return frame.Errorf(frame.AccessRefused, "exchange name '%s' contains reserved prefix 'amq.*'", name)
	}
	if err := v.router.AddExchange(name, kind); err != nil {
		return frame.Errorf(frame.PreconditionFailed, "%v", err)
	}
	v.exchanges[name] = &Exchange{Name: name, Type: typ, Kind: kind, Durable: durable, AutoDelete: autoDelete, Internal: internal, Args: args}
	v.topoGen.Add(1)
	if durable {
		v.b.saveDefinitionsLocked(v)
	}
	return nil
}

func checkExchangeEquivalent(v *VHost, x *Exchange, typ string, durable, autoDelete, internal bool) error {
	field, rcv, cur := "", "", ""
	switch {
	case x.Type != typ:
		field, rcv, cur = "type", typ, x.Type
	case x.Durable != durable:
		field, rcv, cur = "durable", boolStr(durable), boolStr(x.Durable)
	case x.AutoDelete != autoDelete:
		field, rcv, cur = "auto_delete", boolStr(autoDelete), boolStr(x.AutoDelete)
	case x.Internal != internal:
		field, rcv, cur = "internal", boolStr(internal), boolStr(x.Internal)
	default:
		return nil
	}
	return frame.Errorf(frame.PreconditionFailed,
		"inequivalent arg '%s' for exchange '%s' in vhost '%s': received '%s' but current is '%s'",
		field, x.Name, v.Name, rcv, cur)
}

// ExchangeDelete is exchange.delete; deleting a missing exchange succeeds.
func (v *VHost) ExchangeDelete(name string, ifUnused bool) error {
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
	if ifUnused && v.router.HasBindings(name) {
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
