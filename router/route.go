package router

import (
	"slices"

	"github.com/warrenmq/warren/frame"
)

// Route appends the distinct queues a message published to exchange with
// routingKey goes to, following exchange-to-exchange bindings (each exchange
// is visited at most once, so cycles are harmless). headers is called at most
// once, and only when a headers exchange with bindings is on the way; it may
// be nil. An unknown exchange routes nowhere. Route takes no lock and, with
// dst of sufficient capacity, allocates nothing.
func (r *Router[Q]) Route(exchange string, routingKey []byte, headers func() frame.Table, dst []Q) []Q {
	return r.route(r.lookup(exchange), routingKey, headers, dst)
}

// RouteBytes is Route for an exchange name that is still a view into the
// frame buffer (frame.DecodePublishView), saving the broker a string
// conversion per publish.
func (r *Router[Q]) RouteBytes(exchange []byte, routingKey []byte, headers func() frame.Table, dst []Q) []Q {
	return r.route(r.lookupBytes(exchange), routingKey, headers, dst)
}

func (r *Router[Q]) route(x *exchange[Q], key []byte, headers func() frame.Table, dst []Q) []Q {
	if x == nil {
		return dst
	}
	s := x.snap.Load()
	// Fast path: one duplicate-free set with no exchange in it is a plain
	// append, with neither scratch space nor dedupe.
	if d, ok := x.single(s, key); ok {
		switch {
		case d.empty() && r.alt == nil:
			return dst
		case d.empty(): // the slow path asks for an alternate
		case len(d.xs) == 0:
			return append(dst, d.qs...)
		}
	}
	if x.kind == KindConsistentHash {
		if s.ring == nil && r.alt == nil {
			return dst
		}
		if s.ring != nil {
			if e := s.ring.pick(key); e.d.x == nil {
				return append(dst, e.d.q)
			}
		}
	}
	keys := [1][]byte{key}
	return r.routeKeys(x, s, keys[:], headers, dst)
}

// routeKeys is the general route of one or more routing keys.
func (r *Router[Q]) routeKeys(x *exchange[Q], s *snapshot[Q], keys [][]byte, headers func() frame.Table, dst []Q) []Q {
	sc := r.pool.Get().(*scratch[Q])
	dst = sc.route(r, x, s, keys, headers, dst)
	r.pool.Put(sc)
	return dst
}

// single returns the one destination set a message with key reaches
// directly, for the kinds that have one (fanout, direct, and topic when no
// key has a wildcard).
func (x *exchange[Q]) single(s *snapshot[Q], key []byte) (*dests[Q], bool) {
	switch {
	case x.kind == KindFanout:
		return s.fanout, true
	case x.kind == KindDirect, x.kind == KindTopic && s.root == nil:
		return x.keys.get(key), true
	}
	return nil, false
}

// scratch is the per-Route working memory, pooled so that Route allocates
// nothing in steady state. Snapshots are shared by concurrent Routes, so the
// dedupe state cannot live in them.
type scratch[Q comparable] struct {
	// topic NFA: active-state sets and per-node generation stamps
	cur, next []*tnode[Q]
	stamp     []uint32
	gen       uint32

	// queue dedupe within one exchange, by exchange-local queue id
	qstamp []uint32
	qgen   uint32

	// exchanges reached so far (work list and visited set in one)
	visited []*exchange[Q]

	// the exchange being routed had a destination for the message (so
	// its alternate exchange is not asked)
	matched bool

	// queue dedupe across exchanges, which have unrelated queue ids: a
	// linear scan of what was routed so far, or this set once that is long
	cross bool
	seen  map[Q]struct{}
	seenN int
}

// linearDedupe is the routed-so-far length up to which a linear scan beats
// a map for cross-exchange dedupe.
const linearDedupe = 32

func (sc *scratch[Q]) route(r *Router[Q], x *exchange[Q], s *snapshot[Q], keys [][]byte, headers func() frame.Table, dst []Q) []Q {
	start := len(dst)
	sc.visited = append(sc.visited[:0], x)
	var h frame.Table
	hLoaded := false
	for i := 0; i < len(sc.visited); i++ {
		if i > 0 {
			x = sc.visited[i]
			s = x.snap.Load()
		}
		sc.cross = i > 0
		sc.newQueueGen(s.maxQID)
		sc.matched = false
		switch x.kind {
		case KindFanout:
			dst = sc.emit(dst, start, s.fanout)
		case KindDirect:
			for _, key := range keys {
				dst = sc.emit(dst, start, x.keys.get(key))
			}
		case KindTopic:
			for _, key := range keys {
				dst = sc.emit(dst, start, x.keys.get(key))
				if s.root != nil {
					sc.matchTopic(s.root, s.maxNode, key)
					for _, n := range sc.cur {
						dst = sc.emit(dst, start, n.d)
					}
				}
			}
		case KindConsistentHash:
			if s.ring != nil {
				// The plugin hashes the first routing key only.
				if e := s.ring.pick(keys[0]); e.d.x != nil {
					sc.visit(e.d.x)
				} else {
					dst = sc.emitQueue(dst, start, e.d.q, e.qid)
				}
			}
		case KindHeaders:
			if len(s.headers) == 0 {
				break
			}
			if !hLoaded {
				if headers != nil {
					h = headers()
				}
				hLoaded = true
			}
			for _, b := range s.headers {
				if b.m.match(h) {
					if b.d.x != nil {
						sc.visit(b.d.x)
					} else {
						dst = sc.emitQueue(dst, start, b.d.q, b.qid)
					}
				}
			}
		}
		if !sc.matched && r.alt != nil {
			sc.visitAlternate(r, x)
		}
	}
	if sc.seenN > 0 {
		clear(sc.seen)
		sc.seenN = 0
	}
	return dst
}

func (sc *scratch[Q]) emit(dst []Q, start int, d *dests[Q]) []Q {
	if d == nil {
		return dst
	}
	for i, q := range d.qs {
		dst = sc.emitQueue(dst, start, q, d.qid[i])
	}
	for _, y := range d.xs {
		sc.visit(y)
	}
	return dst
}

func (sc *scratch[Q]) emitQueue(dst []Q, start int, q Q, id int32) []Q {
	sc.matched = true
	if int(id) >= len(sc.qstamp) {
		// keys changed in place after s was loaded: a queue bound since
		// has an id beyond s.maxQID
		sc.qstamp = append(sc.qstamp, make([]uint32, int(id)+1-len(sc.qstamp))...)
	}
	if sc.qstamp[id] == sc.qgen {
		return dst
	}
	sc.qstamp[id] = sc.qgen
	if sc.cross && sc.routed(dst, start, q) {
		return dst
	}
	return append(dst, q)
}

// routed reports whether q is already in dst[start:].
func (sc *scratch[Q]) routed(dst []Q, start int, q Q) bool {
	got := dst[start:]
	if len(got) <= linearDedupe {
		return slices.Contains(got, q)
	}
	if sc.seen == nil {
		sc.seen = make(map[Q]struct{}, 2*linearDedupe)
	}
	for ; sc.seenN < len(got); sc.seenN++ {
		sc.seen[got[sc.seenN]] = struct{}{}
	}
	_, ok := sc.seen[q]
	return ok
}

// visit queues exchange y for routing unless it was reached before. The
// linear scan is fine: exchange-to-exchange topologies are small.
func (sc *scratch[Q]) visit(y *exchange[Q]) {
	sc.matched = true
	if !slices.Contains(sc.visited, y) {
		sc.visited = append(sc.visited, y)
	}
}

func (sc *scratch[Q]) newQueueGen(maxQID int32) {
	if len(sc.qstamp) < int(maxQID) {
		sc.qstamp = make([]uint32, maxQID+maxQID/4)
		sc.qgen = 0
	}
	sc.qgen++
	if sc.qgen == 0 {
		clear(sc.qstamp)
		sc.qgen = 1
	}
}
