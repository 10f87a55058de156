package router

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/warrenmq/warren/frame"
)

// The consistent-hash exchange (RabbitMQ's rabbitmq_consistent_hash_exchange,
// type x-consistent-hash). Each destination owns as many buckets as the
// integer weight in its binding key, laid end to end in binding order, and
// a message goes to the owner of bucket jump(hash(key), total buckets):
// Lamping and Veach's jump consistent hash, as the plugin uses. Adding a
// binding appends buckets, so only about weight/total of the keys move;
// removing one closes the gap, as the plugin does. The hash and the jump's
// random numbers are the plugin's own (erlang:phash2 and rand's exs1024,
// hash_erlang.go), so a key lands on the same queue as in RabbitMQ 3.10.
// Routing on a header or property instead of the routing key is the
// broker's choice of value (the hash-header and hash-property exchange
// arguments, RouteHashed).

// maxHashWeight is the plugin's largest binding weight.
const maxHashWeight = 10000

// hashRing is an immutable bucket layout, shared by concurrent Routes.
type hashRing[Q comparable] struct {
	entries []ringEntry[Q]
	cum     []uint32 // cum[i]: buckets owned by entries[:i+1]
}

type ringEntry[Q comparable] struct {
	d      dest[Q]
	qid    int32  // exchange-local id of a queue destination
	weight uint32 // buckets; the weight of the destination's first binding
	refs   int32  // bindings to d on the ring (keys differ): d leaves with its last
}

// hashWeight parses a consistent-hash binding key, refusing what the
// plugin refuses.
func hashWeight(key string) (uint32, error) {
	n, err := strconv.ParseInt(key, 10, 64)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%w: The binding key must be an integer: <<%q>>", ErrInvalidArgs, key)
	case n < 1:
		return 0, fmt.Errorf("%w: The binding key must be greater than 0", ErrInvalidArgs)
	case n > maxHashWeight:
		return 0, fmt.Errorf("%w: The binding key must not exceed %d", ErrInvalidArgs, maxHashWeight)
	}
	return uint32(n), nil
}

// with returns r plus a binding to d of weight key; a destination already
// on the ring keeps its buckets, as in the plugin.
func (r *hashRing[Q]) with(d dest[Q], id int32, key string) *hashRing[Q] {
	out := &hashRing[Q]{}
	if r != nil {
		out.entries = slices.Clone(r.entries)
	}
	if i := out.index(d); i >= 0 {
		out.entries[i].refs++
		out.cum = r.cum
		return out
	}
	w, _ := hashWeight(key) // checked by prepare
	out.entries = append(out.entries, ringEntry[Q]{d: d, qid: id, weight: w, refs: 1})
	out.reweigh()
	return out
}

// without returns r minus one binding to d, or nil when the ring is empty.
func (r *hashRing[Q]) without(d dest[Q]) *hashRing[Q] {
	if r == nil {
		return nil
	}
	i := r.index(d)
	if i < 0 {
		return r
	}
	out := &hashRing[Q]{entries: slices.Clone(r.entries)}
	if out.entries[i].refs--; out.entries[i].refs > 0 {
		out.cum = r.cum
		return out
	}
	out.entries = slices.Delete(out.entries, i, i+1)
	if len(out.entries) == 0 {
		return nil
	}
	out.reweigh()
	return out
}

func (r *hashRing[Q]) index(d dest[Q]) int {
	return slices.IndexFunc(r.entries, func(e ringEntry[Q]) bool { return e.d == d })
}

func (r *hashRing[Q]) reweigh() {
	r.cum = make([]uint32, len(r.entries))
	var sum uint32
	for i, e := range r.entries {
		sum += e.weight
		r.cum[i] = sum
	}
}

// pick returns the entry owning the bucket of a message routed by key.
// It allocates nothing.
func (r *hashRing[Q]) pick(key []byte) *ringEntry[Q] {
	return r.pickHash(Phash2Binary(key))
}

// pickHash returns the entry owning the bucket of the value whose
// erlang:phash2 is h, as the plugin's route picks it.
func (r *hashRing[Q]) pickHash(h uint32) *ringEntry[Q] {
	total := r.cum[len(r.cum)-1]
	b := erlangJump(h, total)
	lo, hi := 0, len(r.cum)-1
	for lo < hi { // the first i with cum[i] > b
		mid := int(uint(lo+hi) >> 1)
		if r.cum[mid] > b {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return &r.entries[lo]
}

// RouteHashed routes on a consistent-hash exchange by h, the
// erlang:phash2 of the value its hash-header or hash-property names
// (Phash2Field, Phash2Binary, Phash2Atom), as the plugin does. An exchange the
// bucket's owner is routes with routingKey, as any exchange-to-exchange
// binding does. Another kind of exchange routes routingKey.
func (r *Router[Q]) RouteHashed(exchange string, h uint32, routingKey []byte, headers func() frame.Table, dst []Q) []Q {
	x := r.lookup(exchange)
	if x == nil || x.kind != KindConsistentHash {
		return r.route(x, routingKey, headers, dst)
	}
	s := x.snap.Load()
	if s.ring == nil {
		if r.alt != nil { // no bucket: the alternate is asked
			keys := [1][]byte{routingKey}
			return r.routeKeys(x, s, keys[:], headers, dst)
		}
		return dst
	}
	e := s.ring.pickHash(h)
	if e.d.x == nil {
		return append(dst, e.d.q)
	}
	return r.route(e.d.x, routingKey, headers, dst)
}
