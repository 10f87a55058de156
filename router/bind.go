package router

import (
	"maps"

	"github.com/warrenmq/warren/frame"
)

// Bind binds queue q to exchange with key and args. Binding identity is
// (exchange, q, key, args) as in RabbitMQ, so binding twice is a no-op and
// the same queue may be bound several times with different keys or args.
// Errors: NoExchangeError (matches ErrNoExchange) and, for headers
// exchanges, ErrInvalidArgs for a bad x-match. The router keeps its own
// copy of args.
func (r *Router[Q]) Bind(exchange string, q Q, key string, args frame.Table) error {
	r.topo.RLock()
	defer r.topo.RUnlock()
	x := r.lookup(exchange)
	if x == nil {
		return &NoExchangeError{Name: exchange}
	}
	bk, hm, err := prepare(x, key, args)
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, first := x.add(dest[Q]{q: q}, bk, maps.Clone(args), hm); first {
		r.noteQueue(q, x, true)
	}
	return nil
}

// Unbind removes a binding made by Bind. A binding that does not exist is
// not an error (RabbitMQ answers unbind-ok); a missing exchange returns
// NoExchangeError and the broker may choose to ignore it too.
func (r *Router[Q]) Unbind(exchange string, q Q, key string, args frame.Table) error {
	r.topo.RLock()
	defer r.topo.RUnlock()
	x := r.lookup(exchange)
	if x == nil {
		return &NoExchangeError{Name: exchange}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, last := x.remove(dest[Q]{q: q}, bindKey{key, canonArgs(args)}); last {
		r.noteQueue(q, x, false)
	}
	return nil
}

// BindExchange binds exchange dst to exchange src (exchange.bind): messages
// routed by src through this binding are routed again by dst. Cycles are
// allowed; Route visits each exchange once.
func (r *Router[Q]) BindExchange(src, dst, key string, args frame.Table) error {
	r.topo.RLock()
	defer r.topo.RUnlock()
	x, y, err := r.lookupPair(src, dst)
	if err != nil {
		return err
	}
	bk, hm, err := prepare(x, key, args)
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if added, _ := x.add(dest[Q]{x: y}, bk, maps.Clone(args), hm); added {
		r.noteE2E(x, y, 1)
	}
	return nil
}

// UnbindExchange removes a binding made by BindExchange; a missing binding
// is not an error.
func (r *Router[Q]) UnbindExchange(src, dst, key string, args frame.Table) error {
	r.topo.RLock()
	defer r.topo.RUnlock()
	x, y, err := r.lookupPair(src, dst)
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if removed, _ := x.remove(dest[Q]{x: y}, bindKey{key, canonArgs(args)}); removed {
		r.noteE2E(x, y, -1)
	}
	return nil
}

// RemoveQueue drops every binding to q (queue.delete) and returns the names
// of the exchanges that lost a binding, e.g. for auto-delete exchanges.
func (r *Router[Q]) RemoveQueue(q Q) []string {
	r.topo.RLock()
	defer r.topo.RUnlock()
	xs := r.exchangesOf(q)
	var names []string
	for _, x := range xs {
		x.mu.Lock()
		if x.removeDest(dest[Q]{q: q}) > 0 {
			r.noteQueue(q, x, false)
			names = append(names, x.name)
		}
		x.mu.Unlock()
	}
	return names
}

func (r *Router[Q]) lookupPair(src, dst string) (x, y *exchange[Q], err error) {
	if x = r.lookup(src); x == nil {
		return nil, nil, &NoExchangeError{Name: src}
	}
	if y = r.lookup(dst); y == nil {
		return nil, nil, &NoExchangeError{Name: dst}
	}
	return x, y, nil
}

// prepare computes a binding's identity and, for headers exchanges,
// validates and compiles its arguments before any lock is taken.
func prepare[Q comparable](x *exchange[Q], key string, args frame.Table) (bindKey, *hmatch, error) {
	var hm *hmatch
	if x.kind == KindHeaders {
		var err error
		if hm, err = compileHeaders(args); err != nil {
			return bindKey{}, nil, err
		}
	}
	if x.kind == KindConsistentHash {
		if _, err := hashWeight(key); err != nil {
			return bindKey{}, nil, err
		}
	}
	return bindKey{key, canonArgs(args)}, hm, nil
}

// Bound reports whether queue q is bound to exchange with key and args, so
// a caller that must undo a Bind knows whether the binding was new.
func (r *Router[Q]) Bound(exchange string, q Q, key string, args frame.Table) bool {
	r.topo.RLock()
	defer r.topo.RUnlock()
	x := r.lookup(exchange)
	return x != nil && x.has(dest[Q]{q: q}, bindKey{key, canonArgs(args)})
}

// BoundExchange is Bound for an exchange-to-exchange binding.
func (r *Router[Q]) BoundExchange(src, dst, key string, args frame.Table) bool {
	r.topo.RLock()
	defer r.topo.RUnlock()
	x, y, err := r.lookupPair(src, dst)
	return err == nil && x.has(dest[Q]{x: y}, bindKey{key, canonArgs(args)})
}

func (x *exchange[Q]) has(d dest[Q], bk bindKey) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	st, ok := x.dests[d]
	return ok && st.has(bk)
}
