// Package router decides which queues a published message goes to: it keeps
// the exchanges of one vhost (direct, fanout, topic, headers), their
// bindings to queues and to other exchanges, and answers Route without
// taking a lock.
//
// Concurrency: the exchange table is sharded by name hash; each shard keeps
// an immutable map behind an atomic pointer, and each exchange an immutable
// compiled snapshot of its bindings. Writers serialise on the shard's or the
// exchange's mutex and publish new versions copy-on-write, sharing the
// unchanged parts, so a Route in flight keeps the version it loaded and is
// never blocked.
//
// The router knows nothing about the default exchange's implicit bindings,
// alternate exchanges, internal exchanges or permissions: those are broker
// policy.
package router

import (
	"errors"
	"hash/maphash"
	"maps"
	"sync"
	"sync/atomic"
)

const shardCount = 32 // power of two

// Router holds the exchanges and bindings of one vhost. Q identifies a
// queue (typically a *broker.Queue); it must be comparable. The zero value
// is not usable; call New.
type Router[Q comparable] struct {
	shards [shardCount]shard[Q]

	// topo is held shared by every writer and exclusively by
	// RemoveExchange, which must see and cut bindings on both sides of an
	// exchange at once. Route never touches it.
	topo sync.RWMutex

	qmu     sync.Mutex // guards byQueue
	byQueue map[Q]queueExchanges[Q]

	xmu sync.Mutex // guards exchange.in

	pool sync.Pool // *scratch[Q]

	alt Alternates // set once, before routing (alternate.go); nil: none
}

// queueExchanges is the set of exchanges a queue has bindings on. Most
// queues are bound to one, kept inline; a map exists only for queues bound
// to several.
type queueExchanges[Q comparable] struct {
	one  *exchange[Q]
	more map[*exchange[Q]]struct{} // when set, holds every exchange and one is nil
}

type shard[Q comparable] struct {
	mu sync.Mutex // serialises writers of m
	m  atomic.Pointer[map[string]*exchange[Q]]
	_  [48]byte // keep shards on separate cache lines
}

var shardSeed = maphash.MakeSeed()

// New returns an empty Router.
func New[Q comparable]() *Router[Q] {
	r := &Router[Q]{byQueue: make(map[Q]queueExchanges[Q])}
	r.pool.New = func() any { return new(scratch[Q]) }
	return r
}

func (r *Router[Q]) shardOf(name string) *shard[Q] {
	return &r.shards[maphash.String(shardSeed, name)&(shardCount-1)]
}

func (r *Router[Q]) lookup(name string) *exchange[Q] {
	m := r.shardOf(name).m.Load()
	if m == nil {
		return nil
	}
	return (*m)[name]
}

func (r *Router[Q]) lookupBytes(name []byte) *exchange[Q] {
	m := r.shards[maphash.Bytes(shardSeed, name)&(shardCount-1)].m.Load()
	if m == nil {
		return nil
	}
	return (*m)[string(name)]
}

// AddExchange creates an exchange. Declaring an existing exchange with the
// same kind is a no-op; with another kind it returns ErrKindMismatch
// (RabbitMQ: 406 inequivalent arg 'type').
func (r *Router[Q]) AddExchange(name string, k Kind) error {
	if k.String() == "unknown" { // a Kind ParseKind cannot return
		return errors.New("router: invalid exchange kind")
	}
	r.topo.RLock()
	defer r.topo.RUnlock()
	sh := r.shardOf(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var m map[string]*exchange[Q]
	if p := sh.m.Load(); p != nil {
		if x := (*p)[name]; x != nil {
			if x.kind != k {
				return ErrKindMismatch
			}
			return nil
		}
		m = maps.Clone(*p)
	} else {
		m = make(map[string]*exchange[Q], 1)
	}
	m[name] = newExchange[Q](name, k)
	sh.m.Store(&m)
	return nil
}

// RemoveExchange deletes an exchange with all bindings that have it as
// source or as destination. Removing a missing exchange is a no-op.
func (r *Router[Q]) RemoveExchange(name string) {
	r.topo.Lock()
	defer r.topo.Unlock()
	sh := r.shardOf(name)
	sh.mu.Lock()
	p := sh.m.Load()
	var x *exchange[Q]
	if p != nil {
		x = (*p)[name]
	}
	if x == nil {
		sh.mu.Unlock()
		return
	}
	m := maps.Clone(*p)
	delete(m, name)
	sh.m.Store(&m)
	sh.mu.Unlock()

	// As source. A Route that loaded the old snapshot may still deliver
	// through it; that publish raced the delete and either order is valid.
	x.mu.Lock()
	x.clear(func(q Q) { r.noteQueue(q, x, false) },
		func(y *exchange[Q], n int32) { r.noteE2E(x, y, -n) })
	x.mu.Unlock()

	// As destination.
	r.xmu.Lock()
	srcs := make([]*exchange[Q], 0, len(x.in))
	for src := range x.in {
		srcs = append(srcs, src)
	}
	x.in = nil
	r.xmu.Unlock()
	for _, src := range srcs {
		src.mu.Lock()
		src.removeDest(dest[Q]{x: x})
		src.mu.Unlock()
	}
}

// HasBindings reports whether the exchange is the source of any binding
// (exchange.delete if-unused). It takes no lock.
func (r *Router[Q]) HasBindings(exchange string) bool {
	x := r.lookup(exchange)
	return x != nil && x.nbind.Load() > 0
}

// ExchangeKind returns the kind of an existing exchange.
func (r *Router[Q]) ExchangeKind(name string) (Kind, bool) {
	if x := r.lookup(name); x != nil {
		return x.kind, true
	}
	return 0, false
}

// noteQueue records that q gained its first (on) or lost its last (!on)
// binding on x. Lock order: exchange.mu, then qmu.
func (r *Router[Q]) noteQueue(q Q, x *exchange[Q], on bool) {
	r.qmu.Lock()
	defer r.qmu.Unlock()
	e, ok := r.byQueue[q]
	switch {
	case on && !ok:
		r.byQueue[q] = queueExchanges[Q]{one: x}
	case on && e.more == nil:
		r.byQueue[q] = queueExchanges[Q]{more: map[*exchange[Q]]struct{}{e.one: {}, x: {}}}
	case on:
		e.more[x] = struct{}{}
	case e.more == nil:
		if e.one == x {
			delete(r.byQueue, q)
		}
	default:
		delete(e.more, x)
		if len(e.more) == 0 {
			delete(r.byQueue, q)
		}
	}
}

// exchangesOf returns the exchanges q has bindings on.
func (r *Router[Q]) exchangesOf(q Q) []*exchange[Q] {
	r.qmu.Lock()
	defer r.qmu.Unlock()
	e, ok := r.byQueue[q]
	if !ok {
		return nil
	}
	if e.more == nil {
		return []*exchange[Q]{e.one}
	}
	xs := make([]*exchange[Q], 0, len(e.more))
	for x := range e.more {
		xs = append(xs, x)
	}
	return xs
}

// noteE2E adds delta to the count of src→dst exchange bindings.
// Lock order: exchange.mu, then xmu.
func (r *Router[Q]) noteE2E(src, dst *exchange[Q], delta int32) {
	r.xmu.Lock()
	defer r.xmu.Unlock()
	if dst.in == nil {
		dst.in = make(map[*exchange[Q]]int32, 1)
	}
	if dst.in[src] += delta; dst.in[src] <= 0 {
		delete(dst.in, src)
	}
}
