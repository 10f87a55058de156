package router

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/warrenmq/warren/frame"
)

// exchange is one exchange's routing state. Readers only ever Load snap
// and read keys; writers hold mu, derive a new snapshot from the current one
// and Store it (copy-on-write with structural sharing, see cowMap and
// trieUpdate), and update keys in place (keyTable).
type exchange[Q comparable] struct {
	name  string
	kind  Kind
	snap  atomic.Pointer[snapshot[Q]]
	keys  keyTable[Q]  // direct; wildcard-free topic keys
	nbind atomic.Int64 // bindings with this exchange as source (HasBindings)

	mu       sync.Mutex // guards the fields below, and writes to keys
	dests    map[dest[Q]]destState
	qidAlloc idAlloc
	nodeIDs  idAlloc

	// in counts the exchange-to-exchange bindings that have this exchange
	// as destination, by source, so RemoveExchange can find them. Guarded
	// by Router.xmu, not mu: BindExchange holds the source's mu only.
	in map[*exchange[Q]]int32
}

// snapshot is an immutable compiled view of an exchange's bindings. Only
// the fields of the exchange's kind are set.
type snapshot[Q comparable] struct {
	maxQID  int32          // exchange-local queue ids are < maxQID
	fanout  *dests[Q]      // fanout
	root    *tnode[Q]      // topic keys with a wildcard
	maxNode int32          // trie node ids are < maxNode
	headers []*hbinding[Q] // headers, one entry per binding
	ring    *hashRing[Q]   // x-consistent-hash
}

// bindKey is the part of a binding's identity beside its destination:
// RabbitMQ identifies a binding by (source, destination, key, arguments).
type bindKey struct {
	key  string
	args string // canonArgs of the arguments
}

// destState is what an exchange keeps about one destination it has
// bindings to. Nearly every destination has one binding (a queue bound with
// its own key), so that one is inline and the maps exist only for
// destinations with several: 100,000 bindings cost ~100 bytes each here.
type destState struct {
	id    int32   // the queue's exchange-local id (dedupe stamps); unused for exchanges
	first bindKey // the only binding, without arguments, while more is nil
	more  *destBindings
}

// destBindings holds the bindings of a destination that has had several,
// or one with arguments.
// Bindings that differ only in arguments route identically, so refs counts
// them by routing-table key and the tables change only on the first and
// the last.
type destBindings struct {
	byKey map[bindKey]frame.Table
	refs  map[string]int32
}

func (st *destState) has(bk bindKey) bool {
	if st.more == nil {
		return st.first == bk
	}
	_, ok := st.more.byKey[bk]
	return ok
}

// each calls f for every binding of the destination.
func (st *destState) each(f func(bindKey, frame.Table)) {
	if st.more == nil {
		f(st.first, nil)
		return
	}
	for bk, args := range st.more.byKey {
		f(bk, args)
	}
}

func (st *destState) count() int {
	if st.more == nil {
		return 1
	}
	return len(st.more.byKey)
}

func newExchange[Q comparable](name string, k Kind) *exchange[Q] {
	x := &exchange[Q]{name: name, kind: k, dests: make(map[dest[Q]]destState)}
	x.snap.Store(&snapshot[Q]{})
	return x
}

// add records a binding and publishes it to the routing tables. It reports
// whether the binding is new and whether d is a queue with no other
// binding here (so the caller updates the per-queue index). x.mu must be
// held.
func (x *exchange[Q]) add(d dest[Q], bk bindKey, args frame.Table, hm *hmatch) (added, firstForQueue bool) {
	st, known := x.dests[d]
	routeFirst := true
	rk := x.routeKey(bk.key)
	switch {
	case !known:
		st = destState{id: -1}
		if d.x == nil {
			st.id = x.qidAlloc.get()
			firstForQueue = true
		}
		if len(args) == 0 {
			st.first = bk
		} else {
			st.more = &destBindings{byKey: map[bindKey]frame.Table{bk: args}, refs: map[string]int32{rk: 1}}
		}
	case st.has(bk):
		return false, false
	default:
		if st.more == nil {
			st.more = &destBindings{
				byKey: map[bindKey]frame.Table{st.first: nil},
				refs:  map[string]int32{x.routeKey(st.first.key): 1},
			}
			st.first = bindKey{}
		}
		st.more.byKey[bk] = args
		st.more.refs[rk]++
		routeFirst = st.more.refs[rk] == 1
	}
	x.dests[d] = st
	x.nbind.Add(1)

	w := *x.snap.Load()
	w.maxQID = x.qidAlloc.next
	if x.kind == KindHeaders {
		w.headers = append(slices.Clip(w.headers), &hbinding[Q]{d: d, qid: st.id, bk: bk, m: hm})
	} else if routeFirst {
		x.addRoute(&w, d, rk, st.id)
	}
	x.snap.Store(&w)
	return true, firstForQueue
}

// remove drops a binding and publishes the change. It reports whether the
// binding existed and whether d was a queue that now has no binding here.
// x.mu must be held.
func (x *exchange[Q]) remove(d dest[Q], bk bindKey) (removed, lastForQueue bool) {
	st, ok := x.dests[d]
	if !ok || !st.has(bk) {
		return false, false
	}
	w := *x.snap.Load()
	lastForQueue = x.removeLocked(&w, d, st, bk)
	x.snap.Store(&w)
	return true, lastForQueue
}

// removeDest drops every binding to d with one snapshot publication and
// returns how many there were. x.mu must be held.
func (x *exchange[Q]) removeDest(d dest[Q]) int {
	st, ok := x.dests[d]
	if !ok {
		return 0
	}
	n := st.count()
	var bks []bindKey
	st.each(func(bk bindKey, _ frame.Table) { bks = append(bks, bk) })
	w := *x.snap.Load()
	for _, bk := range bks {
		x.removeLocked(&w, d, x.dests[d], bk)
	}
	x.snap.Store(&w)
	return n
}

// removeLocked removes d's existing binding bk (st is d's state) from the
// bookkeeping and from the routing tables, w being the working snapshot.
func (x *exchange[Q]) removeLocked(w *snapshot[Q], d dest[Q], st destState, bk bindKey) (lastForQueue bool) {
	x.nbind.Add(-1)
	rk := x.routeKey(bk.key)
	routeLast, destLast := true, true
	if st.more != nil {
		delete(st.more.byKey, bk)
		if st.more.refs[rk]--; st.more.refs[rk] == 0 {
			delete(st.more.refs, rk)
		} else {
			routeLast = false
		}
		destLast = len(st.more.byKey) == 0
	}
	if destLast {
		delete(x.dests, d)
	}

	if x.kind == KindHeaders {
		w.headers = slices.DeleteFunc(slices.Clone(w.headers), func(b *hbinding[Q]) bool {
			return b.d == d && b.bk == bk
		})
		if len(w.headers) == 0 {
			w.headers = nil
		}
	} else if routeLast {
		x.removeRoute(w, d, rk)
	}
	if !destLast || d.x != nil {
		return false
	}
	x.qidAlloc.put(st.id)
	return true
}

// routeKey normalises the key for the routing tables: fanout ignores it.
func (x *exchange[Q]) routeKey(key string) string {
	if x.kind == KindFanout {
		return ""
	}
	return key
}

func (x *exchange[Q]) addRoute(w *snapshot[Q], d dest[Q], key string, id int32) {
	if x.kind == KindConsistentHash {
		w.ring = w.ring.with(d, id, key)
		return
	}
	add := func(o *dests[Q]) *dests[Q] { return o.with(d, id) }
	x.updateRoute(w, key, add)
}

func (x *exchange[Q]) removeRoute(w *snapshot[Q], d dest[Q], key string) {
	if x.kind == KindConsistentHash {
		w.ring = w.ring.without(d)
		return
	}
	del := func(o *dests[Q]) *dests[Q] { return o.without(d) }
	x.updateRoute(w, key, del)
}

// updateRoute applies f to the destination set the kind keeps for key.
func (x *exchange[Q]) updateRoute(w *snapshot[Q], key string, f func(*dests[Q]) *dests[Q]) {
	switch x.kind {
	case KindFanout:
		w.fanout = f(w.fanout)
	case KindDirect:
		x.keys.set(key, f(x.keys.getString(key)))
	case KindTopic:
		words := topicWords(key)
		if !hasWildcard(words) {
			x.keys.set(key, f(x.keys.getString(key)))
			return
		}
		w.root = trieUpdate(w.root, words, false, &x.nodeIDs, f)
		w.maxNode = x.nodeIDs.next
	}
}

// clear drops every binding of x as source; used by RemoveExchange. It
// calls onQueue for each queue that was bound and onExchange with the
// number of bindings to each destination exchange. x.mu must be held.
func (x *exchange[Q]) clear(onQueue func(Q), onExchange func(*exchange[Q], int32)) {
	for d, st := range x.dests {
		if d.x != nil {
			onExchange(d.x, int32(st.count()))
		} else {
			onQueue(d.q)
		}
	}
	x.dests = make(map[dest[Q]]destState)
	x.qidAlloc, x.nodeIDs = idAlloc{}, idAlloc{}
	x.nbind.Store(0)
	x.keys.reset()
	x.snap.Store(&snapshot[Q]{})
}
