package router

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/warrenmq/warren/frame"
)

// exchange is one exchange's routing state. Readers only ever Load snap;
// writers hold mu, derive a new snapshot from the current one and Store it
// (copy-on-write with structural sharing, see cowMap and trieUpdate).
type exchange[Q comparable] struct {
	name  string
	kind  Kind
	snap  atomic.Pointer[snapshot[Q]]
	nbind atomic.Int64 // bindings with this exchange as source (HasBindings)

	mu       sync.Mutex // guards the fields below
	inPlace  bool       // set by Bind for one add in bulk mode (Router.SetBulk)
	bindings map[dest[Q]]map[bindKey]frame.Table
	refs     map[routeRef[Q]]int32
	qids     map[Q]*qref
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
	nx      int               // bindings to exchanges; 0 enables Route's fast paths
	maxQID  int32             // exchange-local queue ids are < maxQID
	fanout  *dests[Q]         // fanout
	keys    cowMap[*dests[Q]] // direct; wildcard-free topic keys
	root    *tnode[Q]         // topic keys with a wildcard
	maxNode int32             // trie node ids are < maxNode
	headers []*hbinding[Q]    // headers, one entry per binding
	ring    *hashRing[Q]      // x-consistent-hash
}

// bindKey is the part of a binding's identity beside its destination:
// RabbitMQ identifies a binding by (source, destination, key, arguments).
type bindKey struct {
	key  string
	args string // canonArgs of the arguments
}

// routeRef is what the routing tables of direct, fanout and topic
// exchanges hold one entry for: bindings that differ only in arguments
// route identically, so refs counts them and the tables change only on the
// first and the last.
type routeRef[Q comparable] struct {
	d   dest[Q]
	key string
}

// qref is a queue's exchange-local id (for dedupe stamps) and the number
// of bindings it has on this exchange.
type qref struct {
	id, n int32
}

func newExchange[Q comparable](name string, k Kind) *exchange[Q] {
	x := &exchange[Q]{
		name:     name,
		kind:     k,
		bindings: make(map[dest[Q]]map[bindKey]frame.Table),
		refs:     make(map[routeRef[Q]]int32),
		qids:     make(map[Q]*qref),
	}
	x.snap.Store(&snapshot[Q]{})
	return x
}

// add records a binding and publishes a new snapshot. It reports whether
// the binding is new and whether d is a queue with no other binding here
// (so the caller updates the per-queue index). x.mu must be held.
func (x *exchange[Q]) add(d dest[Q], bk bindKey, args frame.Table, hm *hmatch) (added, firstForQueue bool) {
	byKey := x.bindings[d]
	if _, ok := byKey[bk]; ok {
		return false, false
	}
	if byKey == nil {
		byKey = make(map[bindKey]frame.Table, 1)
		x.bindings[d] = byKey
	}
	byKey[bk] = args
	x.nbind.Add(1)

	w := *x.snap.Load()
	id := int32(-1)
	if d.x == nil {
		r := x.qids[d.q]
		if r == nil {
			r = &qref{id: x.qidAlloc.get()}
			x.qids[d.q] = r
			firstForQueue = true
		}
		r.n++
		id = r.id
		w.maxQID = x.qidAlloc.next
	} else {
		w.nx++
	}
	if x.kind == KindHeaders {
		w.headers = append(slices.Clip(w.headers), &hbinding[Q]{d: d, qid: id, bk: bk, m: hm})
	} else {
		rr := routeRef[Q]{d, x.routeKey(bk.key)}
		x.refs[rr]++
		if x.refs[rr] == 1 {
			x.addRoute(&w, d, rr.key, id)
		}
	}
	x.snap.Store(&w)
	return true, firstForQueue
}

// remove drops a binding and publishes a new snapshot. It reports whether
// the binding existed and whether d was a queue that now has no binding
// here. x.mu must be held.
func (x *exchange[Q]) remove(d dest[Q], bk bindKey) (removed, lastForQueue bool) {
	if _, ok := x.bindings[d][bk]; !ok {
		return false, false
	}
	w := *x.snap.Load()
	lastForQueue = x.removeLocked(&w, d, bk)
	x.snap.Store(&w)
	return true, lastForQueue
}

// removeDest drops every binding to d with one snapshot publication and
// returns how many there were. x.mu must be held.
func (x *exchange[Q]) removeDest(d dest[Q]) int {
	byKey := x.bindings[d]
	if len(byKey) == 0 {
		return 0
	}
	n := len(byKey)
	w := *x.snap.Load()
	for bk := range byKey {
		x.removeLocked(&w, d, bk)
	}
	x.snap.Store(&w)
	return n
}

// removeLocked removes an existing binding from the bookkeeping and from
// the working snapshot w.
func (x *exchange[Q]) removeLocked(w *snapshot[Q], d dest[Q], bk bindKey) (lastForQueue bool) {
	byKey := x.bindings[d]
	delete(byKey, bk)
	if len(byKey) == 0 {
		delete(x.bindings, d)
	}
	x.nbind.Add(-1)

	if x.kind == KindHeaders {
		w.headers = slices.DeleteFunc(slices.Clone(w.headers), func(b *hbinding[Q]) bool {
			return b.d == d && b.bk == bk
		})
		if len(w.headers) == 0 {
			w.headers = nil
		}
	} else {
		rr := routeRef[Q]{d, x.routeKey(bk.key)}
		if x.refs[rr]--; x.refs[rr] == 0 {
			delete(x.refs, rr)
			x.removeRoute(w, d, rr.key)
		}
	}
	if d.x != nil {
		w.nx--
		return false
	}
	r := x.qids[d.q]
	if r.n--; r.n == 0 {
		delete(x.qids, d.q)
		x.qidAlloc.put(r.id)
		return true
	}
	return false
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
		w.keys = updateKey(w.keys, key, f, x.inPlace)
	case KindTopic:
		words := topicWords(key)
		if !hasWildcard(words) {
			w.keys = updateKey(w.keys, key, f, x.inPlace)
			return
		}
		w.root = trieUpdate(w.root, words, false, &x.nodeIDs, f)
		w.maxNode = x.nodeIDs.next
	}
}

func updateKey[Q comparable](m cowMap[*dests[Q]], key string, f func(*dests[Q]) *dests[Q], inPlace bool) cowMap[*dests[Q]] {
	old, _ := m.getString(key)
	if nd := f(old); nd != nil {
		if inPlace {
			return m.setInPlace(key, nd)
		}
		return m.with(key, nd)
	}
	return m.without(key)
}

// clear drops every binding of x as source; used by RemoveExchange. It
// calls onQueue for each queue that was bound and onExchange with the
// number of bindings to each destination exchange. x.mu must be held.
func (x *exchange[Q]) clear(onQueue func(Q), onExchange func(*exchange[Q], int32)) {
	for d, byKey := range x.bindings {
		if d.x != nil {
			onExchange(d.x, int32(len(byKey)))
		} else {
			onQueue(d.q)
		}
	}
	x.bindings = make(map[dest[Q]]map[bindKey]frame.Table)
	x.refs = make(map[routeRef[Q]]int32)
	x.qids = make(map[Q]*qref)
	x.qidAlloc, x.nodeIDs = idAlloc{}, idAlloc{}
	x.nbind.Store(0)
	x.snap.Store(&snapshot[Q]{})
}
