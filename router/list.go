package router

import (
	"cmp"
	"slices"

	"github.com/warrenmq/warren/frame"
)

// DestKind tells what a binding points at.
type DestKind uint8

const (
	DestQueue DestKind = iota + 1
	DestExchange
)

func (k DestKind) String() string {
	if k == DestExchange {
		return "exchange"
	}
	return "queue"
}

// BindingInfo describes one binding for the management API. Args is the
// router's copy of the arguments; treat it as read-only.
type BindingInfo[Q comparable] struct {
	Source   string
	DestKind DestKind
	Queue    Q      // when DestKind == DestQueue
	Exchange string // when DestKind == DestExchange
	Key      string
	Args     frame.Table

	args string // canonical args, a sort tie-breaker
}

// Bindings lists every binding of the vhost, sorted by source, destination
// kind, destination exchange name and key (queues are opaque to the router,
// so bindings to different queues keep no particular order among
// themselves).
func (r *Router[Q]) Bindings() []BindingInfo[Q] {
	r.topo.RLock()
	defer r.topo.RUnlock()
	var out []BindingInfo[Q]
	for i := range r.shards {
		if m := r.shards[i].m.Load(); m != nil {
			for _, x := range *m {
				out = x.appendBindings(out, func(dest[Q]) bool { return true })
			}
		}
	}
	sortInfos(out)
	return out
}

// EachBinding calls f for every binding of the vhost, in no particular
// order: what a definitions snapshot needs, without Bindings' sort (most of
// a snapshot's time with 100,000 bindings). f must not call the router.
func (r *Router[Q]) EachBinding(f func(BindingInfo[Q])) {
	r.topo.RLock()
	defer r.topo.RUnlock()
	for i := range r.shards {
		if m := r.shards[i].m.Load(); m != nil {
			for _, x := range *m {
				x.eachBinding(func(dest[Q]) bool { return true }, f)
			}
		}
	}
}

// SourceBindings lists the bindings whose source is exchange.
func (r *Router[Q]) SourceBindings(exchange string) []BindingInfo[Q] {
	r.topo.RLock()
	defer r.topo.RUnlock()
	x := r.lookup(exchange)
	if x == nil {
		return nil
	}
	out := x.appendBindings(nil, func(dest[Q]) bool { return true })
	sortInfos(out)
	return out
}

// DestinationBindings lists the exchange-to-exchange bindings whose
// destination is the exchange called name.
func (r *Router[Q]) DestinationBindings(name string) []BindingInfo[Q] {
	r.topo.RLock()
	defer r.topo.RUnlock()
	y := r.lookup(name)
	if y == nil {
		return nil
	}
	r.xmu.Lock()
	srcs := make([]*exchange[Q], 0, len(y.in))
	for src := range y.in {
		srcs = append(srcs, src)
	}
	r.xmu.Unlock()
	var out []BindingInfo[Q]
	for _, x := range srcs {
		out = x.appendBindings(out, func(d dest[Q]) bool { return d.x == y })
	}
	sortInfos(out)
	return out
}

// QueueBindings lists the bindings whose destination is q.
func (r *Router[Q]) QueueBindings(q Q) []BindingInfo[Q] {
	r.topo.RLock()
	defer r.topo.RUnlock()
	xs := r.exchangesOf(q)
	var out []BindingInfo[Q]
	for _, x := range xs {
		out = x.appendBindings(out, func(d dest[Q]) bool { return d.x == nil && d.q == q })
	}
	sortInfos(out)
	return out
}

func (x *exchange[Q]) appendBindings(out []BindingInfo[Q], keep func(dest[Q]) bool) []BindingInfo[Q] {
	x.eachBinding(keep, func(b BindingInfo[Q]) { out = append(out, b) })
	return out
}

func (x *exchange[Q]) eachBinding(keep func(dest[Q]) bool, f func(BindingInfo[Q])) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for d, st := range x.dests {
		if !keep(d) {
			continue
		}
		st.each(func(bk bindKey, args frame.Table) {
			b := BindingInfo[Q]{Source: x.name, DestKind: DestQueue, Queue: d.q, Key: bk.key, Args: args, args: bk.args}
			if d.x != nil {
				b.DestKind, b.Exchange = DestExchange, d.x.name
			}
			f(b)
		})
	}
}

func sortInfos[Q comparable](bs []BindingInfo[Q]) {
	slices.SortStableFunc(bs, func(a, b BindingInfo[Q]) int {
		return cmp.Or(
			cmp.Compare(a.Source, b.Source),
			cmp.Compare(a.DestKind, b.DestKind),
			cmp.Compare(a.Exchange, b.Exchange),
			cmp.Compare(a.Key, b.Key),
			cmp.Compare(a.args, b.args),
		)
	})
}
