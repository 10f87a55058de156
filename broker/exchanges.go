package broker

import (
	"strings"
	"sync/atomic"

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

	features *exchangeFeatures // from Args; nil for an exchange that uses none
	policy   exchangePolicyRef // the matching policy's settings (policies.go)
	aeWarned atomic.Bool       // a missing alternate exchange was logged
	ext      *exchangeExt      // delayed, deduplicating: nil for plain exchanges (delayed_exchange.go)

	// PublishedIn counts messages published to the exchange, PublishedOut
	// the copies it put into queues (RabbitMQ's publish_in / publish_out).
	PublishedIn, PublishedOut atomic.Uint64
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
	Type       string // direct, fanout, topic, headers or x-consistent-hash
	Passive    bool
	Durable    bool
	AutoDelete bool
	Internal   bool
	Args       frame.Table
}

// ExchangeDeclare is exchange.declare; it returns once a durable exchange
// is on disk.
func (v *VHost) ExchangeDeclare(p *Principal, o ExchangeDeclareOptions) error {
	c, err := v.ExchangeDeclareAsync(p, o)
	if err != nil {
		return err
	}
	return c.Wait()
}

// ExchangeDeclareAsync is ExchangeDeclare without the wait: declare-ok
// must go out only once the Commit is durable.
func (v *VHost) ExchangeDeclareAsync(p *Principal, o ExchangeDeclareOptions) (Commit, error) {
	name := o.Name
	if name == "" {
		return Commit{}, frame.Errorf(frame.AccessRefused, "operation not permitted on the default exchange")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	x, ok := v.exchanges[name]
	if o.Passive {
		if !ok {
			return Commit{}, notFoundExchange(v, name)
		}
		return v.pendingIfDurableLocked(x), nil
	}
	kind, err := exchangeKind(o.Type, o.Args)
	if err != nil {
		return Commit{}, err
	}
	if err := v.permitExchangeDeclare(p, name, o.Args, ok); err != nil {
		return Commit{}, err
	}
	if ok {
		if err := checkExchangeEquivalent(v, x, o); err != nil {
			return Commit{}, err
		}
		if err := checkExchangeArgsEquivalent(v, x, o.Args); err != nil {
			return Commit{}, err
		}
		return v.pendingIfDurableLocked(x), nil
	}
	if strings.HasPrefix(name, "amq.") {
		return Commit{}, frame.Errorf(frame.AccessRefused, "exchange name '%s' contains reserved prefix 'amq.*'", name)
	}
	if err := validateExchangeArgs(v, name, kind, o.Args); err != nil {
		return Commit{}, err
	}
	if err := v.router.AddExchange(name, kind); err != nil {
		return Commit{}, frame.Errorf(frame.PreconditionFailed, "%v", err)
	}
	x = &Exchange{Name: name, Type: o.Type, Kind: kind, Durable: o.Durable, AutoDelete: o.AutoDelete, Internal: o.Internal, Args: o.Args, features: featuresFromArgs(kind, o.Args)}
	if x.ext, err = v.openExchangeExt(x); err != nil {
		v.router.RemoveExchange(name)
		return Commit{}, err
	}
	v.exchanges[name] = x
	v.applyExchangePolicyLocked(x)
	v.topoGen.Add(1)
	if !o.Durable {
		return Commit{}, nil
	}
	c, err := v.journalLocked(exchangeChange(opExchangeDeclare, x), true)
	if err != nil { // not on disk: as if never declared
		x.closeExt(true)
		v.router.RemoveExchange(name)
		delete(v.exchanges, name)
		v.topoGen.Add(1)
		return Commit{}, err
	}
	return c, nil
}

func (v *VHost) pendingIfDurableLocked(x *Exchange) Commit {
	if x.Durable {
		return v.pendingLocked()
	}
	return Commit{}
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
	c, err := v.ExchangeDeleteAsync(p, name, o)
	if err != nil {
		return err
	}
	return c.Wait()
}

// ExchangeDeleteAsync is ExchangeDelete without the wait for its Commit.
func (v *VHost) ExchangeDeleteAsync(p *Principal, name string, o ExchangeDeleteOptions) (Commit, error) {
	if name == "" {
		return Commit{}, frame.Errorf(frame.AccessRefused, "operation not permitted on the default exchange")
	}
	if strings.HasPrefix(name, "amq.") {
		return Commit{}, frame.Errorf(frame.AccessRefused, "deletion of system exchange '%s' in vhost '%s' not allowed", name, v.Name)
	}
	if err := v.permitExchange(p, permConfigure, name); err != nil {
		return Commit{}, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	x, ok := v.exchanges[name]
	if !ok {
		return Commit{}, nil
	}
	if o.IfUnused && v.router.HasBindings(name) {
		return Commit{}, frame.Errorf(frame.PreconditionFailed, "exchange '%s' in vhost '%s' in use", name, v.Name)
	}
	return v.deleteExchangeLocked(x)
}

// deleteExchangeLocked records x's deletion, then deletes it; if the
// record cannot be written, x stays.
func (v *VHost) deleteExchangeLocked(x *Exchange) (Commit, error) {
	var c Commit
	if x.Durable {
		var err error
		if c, err = v.journalLocked(exchangeChange(opExchangeDelete, x), false); err != nil {
			return Commit{}, err
		}
	}
	x.closeExt(true)
	var sources []string // exchanges bound to x lose those bindings with it
	for _, b := range v.router.DestinationBindings(x.Name) {
		sources = append(sources, b.Source)
	}
	v.router.RemoveExchange(x.Name)
	delete(v.exchanges, x.Name)
	v.topoGen.Add(1)
	v.autoDeleteExchangesLocked(sources)
	return c, nil
}

// autoDeleteExchangesLocked removes auto-delete exchanges that lost their
// last binding as a source. One whose deletion cannot be recorded stays,
// unbound, until the next chance.
func (v *VHost) autoDeleteExchangesLocked(names []string) {
	for _, n := range names {
		if x, ok := v.exchanges[n]; ok && x.AutoDelete && !v.router.HasBindings(n) {
			_, err := v.deleteExchangeLocked(x)
			logErr("auto-delete exchange", err, "exchange", n, "vhost", v.Name)
		}
	}
}
