package router

import "github.com/warrenmq/warren/frame"

// Alternate exchanges, as RabbitMQ 3.10's rabbit_exchange:route applies
// them: every exchange a message reaches, the one it was published to or
// one reached through an exchange-to-exchange binding (or an alternate),
// that has no destination at all for it (no queue and no exchange: an
// exchange bound further counts, even if it then routes nowhere) passes
// the message to its alternate exchange, which routes it like any other;
// an exchange reached before is not routed again, so cycles end.

// Alternates names an exchange's alternate exchange: ok is false when it
// has none, or when the alternate does not exist (the caller may log it).
// It is called only for exchanges that routed a message nowhere, from
// concurrent Routes.
type Alternates func(exchange string) (alternate string, ok bool)

// SetAlternates makes the router consult fn. REQUIRES: called once,
// before the router routes anything.
func (r *Router[Q]) SetAlternates(fn Alternates) { r.alt = fn }

// RouteKeys is Route for a message with more routing keys than one (its
// CC and BCC headers): each exchange on the way routes them all, so its
// alternate is asked only when none of them has a destination, and a
// consistent-hash exchange hashes the first, as the plugin does. keys
// must not be empty.
func (r *Router[Q]) RouteKeys(exchange string, keys [][]byte, headers func() frame.Table, dst []Q) []Q {
	x := r.lookup(exchange)
	if x == nil {
		return dst
	}
	return r.routeKeys(x, x.snap.Load(), keys, headers, dst)
}

// visitAlternate queues x's alternate exchange for routing.
func (sc *scratch[Q]) visitAlternate(r *Router[Q], x *exchange[Q]) {
	name, ok := r.alt(x.name)
	if !ok {
		return
	}
	if y := r.lookup(name); y != nil {
		sc.visit(y)
	}
}
