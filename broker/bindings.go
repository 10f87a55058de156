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

// QueueBind is queue.bind; binding twice is not an error. It returns once
// a durable binding is on disk.
func (v *VHost) QueueBind(p *Principal, b Binding, conn uint64) error {
	c, err := v.QueueBindAsync(p, b, conn)
	if err != nil {
		return err
	}
	return c.Wait()
}

// QueueBindAsync is QueueBind without the wait: bind-ok must go out only
// once the Commit is durable.
func (v *VHost) QueueBindAsync(p *Principal, b Binding, conn uint64) (Commit, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.permitBindLocked(p, b, false); err != nil {
		return Commit{}, err
	}
	q, x, err := v.queueBindingLocked(b, conn)
	if err != nil {
		return Commit{}, err
	}
	stored := storedQueue(q) && x.Durable
	if v.router.Bound(b.Source, q, b.Key, b.Args) {
		if stored {
			return v.pendingLocked(), nil
		}
		return Commit{}, nil
	}
	if err := v.router.Bind(b.Source, q, b.Key, b.Args); err != nil {
		return Commit{}, frame.Errorf(frame.PreconditionFailed, "%v", err)
	}
	if !stored {
		return Commit{}, nil
	}
	c, err := v.journalLocked(bindingChange(opBind, b, "queue"), true)
	if err != nil {
		_ = v.router.Unbind(b.Source, q, b.Key, b.Args)
		return Commit{}, err
	}
	return c, nil
}

// QueueUnbind is queue.unbind; a missing binding is not an error. An
// auto-delete source that loses its last binding goes.
func (v *VHost) QueueUnbind(p *Principal, b Binding, conn uint64) error {
	c, err := v.QueueUnbindAsync(p, b, conn)
	if err != nil {
		return err
	}
	return c.Wait()
}

// QueueUnbindAsync is QueueUnbind without the wait for its Commit.
func (v *VHost) QueueUnbindAsync(p *Principal, b Binding, conn uint64) (Commit, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.permitBindLocked(p, b, false); err != nil {
		return Commit{}, err
	}
	q, x, err := v.queueBindingLocked(b, conn)
	if err != nil {
		return Commit{}, err
	}
	var c Commit
	if storedQueue(q) && x.Durable && v.router.Bound(b.Source, q, b.Key, b.Args) {
		if c, err = v.journalLocked(bindingChange(opUnbind, b, "queue"), false); err != nil {
			return Commit{}, err
		}
	}
	if err := v.router.Unbind(b.Source, q, b.Key, b.Args); err != nil {
		return Commit{}, frame.Errorf(frame.PreconditionFailed, "%v", err)
	}
	v.autoDeleteExchangesLocked([]string{b.Source})
	return c, nil
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
	c, err := v.ExchangeBindAsync(p, b)
	if err != nil {
		return err
	}
	return c.Wait()
}

// ExchangeBindAsync is ExchangeBind without the wait for its Commit.
func (v *VHost) ExchangeBindAsync(p *Principal, b Binding) (Commit, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.permitBindLocked(p, b, true); err != nil {
		return Commit{}, err
	}
	src, dst, err := v.exchangeBindingLocked(b)
	if err != nil {
		return Commit{}, err
	}
	stored := src.Durable && dst.Durable
	if v.router.BoundExchange(b.Source, b.Destination, b.Key, b.Args) {
		if stored {
			return v.pendingLocked(), nil
		}
		return Commit{}, nil
	}
	if err := v.router.BindExchange(b.Source, b.Destination, b.Key, b.Args); err != nil {
		return Commit{}, frame.Errorf(frame.PreconditionFailed, "%v", err)
	}
	if !stored {
		return Commit{}, nil
	}
	c, err := v.journalLocked(bindingChange(opBind, b, "exchange"), true)
	if err != nil {
		_ = v.router.UnbindExchange(b.Source, b.Destination, b.Key, b.Args)
		return Commit{}, err
	}
	return c, nil
}

// ExchangeUnbind is exchange.unbind; a missing binding is not an error. An
// auto-delete source that loses its last binding goes.
func (v *VHost) ExchangeUnbind(p *Principal, b Binding) error {
	c, err := v.ExchangeUnbindAsync(p, b)
	if err != nil {
		return err
	}
	return c.Wait()
}

// ExchangeUnbindAsync is ExchangeUnbind without the wait for its Commit.
func (v *VHost) ExchangeUnbindAsync(p *Principal, b Binding) (Commit, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.permitBindLocked(p, b, true); err != nil {
		return Commit{}, err
	}
	src, dst, err := v.exchangeBindingLocked(b)
	if err != nil {
		return Commit{}, err
	}
	var c Commit
	if src.Durable && dst.Durable && v.router.BoundExchange(b.Source, b.Destination, b.Key, b.Args) {
		if c, err = v.journalLocked(bindingChange(opUnbind, b, "exchange"), false); err != nil {
			return Commit{}, err
		}
	}
	if err := v.router.UnbindExchange(b.Source, b.Destination, b.Key, b.Args); err != nil {
		return Commit{}, frame.Errorf(frame.PreconditionFailed, "%v", err)
	}
	v.autoDeleteExchangesLocked([]string{b.Source})
	return c, nil
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
