package broker

import (
	"github.com/warrenmq/warren/frame"
)

// QueueBind is queue.bind, or queue.unbind with unbind set (a missing
// binding is not an error).
func (v *VHost) QueueBind(queue, exchange, key string, args frame.Table, conn uint64, unbind bool) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	q, ok := v.queues[queue]
	if !ok {
		return notFoundQueue(v, queue)
	}
	if q.Exclusive && q.Owner != conn {
		return lockedErr(v, queue)
	}
	x, ok := v.exchanges[exchange]
	if !ok {
		return notFoundExchange(v, exchange)
	}
	if x.Name == "" {
		return frame.Errorf(frame.AccessRefused, "operation not permitted on the default exchange")
	}
	var err error
	if unbind {
		err = v.router.Unbind(exchange, q, key, args)
	} else {
		err = v.router.Bind(exchange, q, key, args)
	}
	if err != nil {
		return frame.Errorf(frame.PreconditionFailed, "%v", err)
	}
	if q.Durable && x.Durable {
		v.b.saveDefinitionsLocked(v)
	}
	if unbind {
		v.autoDeleteExchangesLocked([]string{exchange})
	}
	return nil
}

// ExchangeBind is exchange.bind (destination receives from source).
func (v *VHost) ExchangeBind(dst, src, key string, args frame.Table, unbind bool) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, n := range []string{dst, src} {
		if n == "" {
			return frame.Errorf(frame.AccessRefused, "operation not permitted on the default exchange")
		}
	}
	dx, ok := v.exchanges[dst]
	if !ok {
		return notFoundExchange(v, dst)
	}
	sx, ok := v.exchanges[src]
	if !ok {
		return notFoundExchange(v, src)
	}
	var err error
	if unbind {
		err = v.router.UnbindExchange(src, dst, key, args)
	} else {
		err = v.router.BindExchange(src, dst, key, args)
	}
	if err != nil {
		return frame.Errorf(frame.PreconditionFailed, "%v", err)
	}
	if dx.Durable && sx.Durable {
		v.b.saveDefinitionsLocked(v)
	}
	if unbind {
		v.autoDeleteExchangesLocked([]string{src})
	}
	return nil
}
