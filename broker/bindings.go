package broker

import (
	"github.com/warrenmq/warren/frame"
)

// Binding is one route: messages published to the Source exchange whose
// routing key (or headers, per Args) match Key go on to Destination, a queue
// or an exchange depending on the call.
type Binding struct {
	Source      string
	Destination string
	Key         string
	Args        frame.Table
}

// QueueBind is queue.bind; binding twice is not an error.
func (v *VHost) QueueBind(p *Principal, b Binding, conn uint64) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	q, x, err := v.queueBindingLocked(b, conn)
	if err != nil {
		return err
	}
	if err := v.router.Bind(b.Source, q, b.Key, b.Args); err != nil {
		return frame.Errorf(frame.PreconditionFailed, "%v", err)
	}
	if q.Durable && x.Durable {
		v.b.saveDefinitionsLocked(v)
	}
	return nil
}

// QueueUnbind is queue.unbind; a missing binding is not an error. An
// auto-delete source that loses its last binding goes.
func (v *VHost) QueueUnbind(p *Principal, b Binding, conn uint64) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	q, x, err := v.queueBindingLocked(b, conn)
	if err != nil {
		return err
	}
	if err := v.router.Unbind(b.Source, q, b.Key, b.Args); err != nil {
		return frame.Errorf(frame.PreconditionFailed, "%v", err)
	}
	if q.Durable && x.Durable {
		v.b.saveDefinitionsLocked(v)
	}
	v.autoDeleteExchangesLocked([]string{b.Source})
	return nil
}

// queueBindingLocked finds a queue binding's ends, checking that conn may
// use the queue and that the source is not the default exchange.
func (v *VHost) queueBindingLocked(b Binding, conn uint64) (*Queue, *Exchange, error) {
	q, ok := v.queues[b.Destination]
	if !ok {
		return nil, nil, notFoundQueue(v, b.Destination)
	}
	if q.Exclusive && q.Owner != conn {
		return nil, nil, lockedErr(v, b.Destination)
	}
	x, ok := v.exchanges[b.Source]
	if !ok {
		return nil, nil, notFoundExchange(v, b.Source)
	}
	if x.Name == "" {
		return nil, nil, frame.Errorf(frame.AccessRefused, "operation not permitted on the default exchange")
	}
	return q, x, nil
}

// ExchangeBind is exchange.bind: Destination receives what Source routes.
func (v *VHost) ExchangeBind(p *Principal, b Binding) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	src, dst, err := v.exchangeBindingLocked(b)
	if err != nil {
		return err
	}
	if err := v.router.BindExchange(b.Source, b.Destination, b.Key, b.Args); err != nil {
		return frame.Errorf(frame.PreconditionFailed, "%v", err)
	}
	if src.Durable && dst.Durable {
		v.b.saveDefinitionsLocked(v)
	}
	return nil
}

// ExchangeUnbind is exchange.unbind; a missing binding is not an error. An
// auto-delete source that loses its last binding goes.
func (v *VHost) ExchangeUnbind(p *Principal, b Binding) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	src, dst, err := v.exchangeBindingLocked(b)
	if err != nil {
		return err
	}
	if err := v.router.UnbindExchange(b.Source, b.Destination, b.Key, b.Args); err != nil {
		return frame.Errorf(frame.PreconditionFailed, "%v", err)
	}
	if src.Durable && dst.Durable {
		v.b.saveDefinitionsLocked(v)
	}
	v.autoDeleteExchangesLocked([]string{b.Source})
	return nil
}

// exchangeBindingLocked finds an exchange binding's ends; neither may be
// the default exchange.
func (v *VHost) exchangeBindingLocked(b Binding) (src, dst *Exchange, err error) {
	if b.Destination == "" || b.Source == "" {
		return nil, nil, frame.Errorf(frame.AccessRefused, "operation not permitted on the default exchange")
	}
	dst, ok := v.exchanges[b.Destination]
	if !ok {
		return nil, nil, notFoundExchange(v, b.Destination)
	}
	src, ok = v.exchanges[b.Source]
	if !ok {
		return nil, nil, notFoundExchange(v, b.Source)
	}
	return src, dst, nil
}
