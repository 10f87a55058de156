package streamproto

import (
	"sync"

	"github.com/warrenmq/warren/broker"
)

// Single active consumer on streams, as RabbitMQ does it: subscriptions
// with single-active-consumer=true and the same name on one stream form a
// group of which one delivers. Without a super stream the first member is
// active until it leaves, then the next in order of arrival. For a
// partition of a super stream, the active member is the one at index
// (partition index mod members), so a super stream's partitions spread
// over the group's consumers and move when consumers come and go.
//
// Activation is a consumer update request (active=1); the client answers
// with the offset specification to start from (typically its stored
// offset + 1), and only then does the subscription read. A member that
// loses the active role gets an update with active=0 and stops at once.

type sacKey struct{ vhost, stream, name string }

type sacGroup struct {
	members   []*subscription
	active    *subscription
	partition int
}

type sacCoordinator struct {
	mu     sync.Mutex
	groups map[sacKey]*sacGroup
}

func newSACCoordinator() *sacCoordinator { return &sacCoordinator{groups: map[sacKey]*sacGroup{}} }

func (sc *sacCoordinator) join(s *subscription, partition int) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	g := sc.groups[s.sacKey]
	if g == nil {
		g = &sacGroup{partition: partition}
		sc.groups[s.sacKey] = g
	}
	g.members = append(g.members, s)
	sc.rebalance(g)
}

func (sc *sacCoordinator) leave(s *subscription) {
	if !s.sac {
		return
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	g := sc.groups[s.sacKey]
	if g == nil {
		return
	}
	for i, m := range g.members {
		if m == s {
			g.members = append(g.members[:i], g.members[i+1:]...)
			break
		}
	}
	if g.active == s {
		g.active = nil
	}
	if len(g.members) == 0 {
		delete(sc.groups, s.sacKey)
		return
	}
	sc.rebalance(g)
}

// isActive reports whether s is its group's active member.
func (sc *sacCoordinator) isActive(s *subscription) bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	g := sc.groups[s.sacKey]
	return g != nil && g.active == s
}

func (sc *sacCoordinator) rebalance(g *sacGroup) {
	var want *subscription
	switch {
	case len(g.members) == 0:
	case g.partition >= 0:
		want = g.members[g.partition%len(g.members)]
	case g.active != nil:
		want = g.active
	default:
		want = g.members[0]
	}
	if want == g.active {
		return
	}
	if old := g.active; old != nil {
		old.close()
		old.c.consumerUpdate(old, false)
	}
	g.active = want
	if want != nil {
		want.c.consumerUpdate(want, true)
	}
}

// consumerUpdate sends subscription s a consumer update request.
func (c *conn) consumerUpdate(s *subscription, active bool) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.corr++
	corr := c.corr
	c.pendCU[corr] = s.id
	if active {
		c.pendActive[corr] = true
	}
	c.out = AppendConsumerUpdate(c.out, corr, s.id, active)
	c.mu.Unlock()
	c.kick()
}

// consumerUpdateResponse: correlation id, code, offset specification.
// For an activation, the subscription starts reading there.
func (c *conn) consumerUpdateResponse(r *reader) {
	corr := r.u32()
	code := r.u16()
	spec, ok := offsetSpec(r)
	c.mu.Lock()
	id, known := c.pendCU[corr]
	active := c.pendActive[corr]
	delete(c.pendCU, corr)
	delete(c.pendActive, corr)
	s := c.subs[id]
	c.mu.Unlock()
	if !known || !active || s == nil || code != CodeOK {
		return
	}
	if !ok {
		spec = broker.OffsetSpec{Kind: broker.OffsetNext}
	}
	if !c.s.sac.isActive(s) {
		return
	}
	if err := s.start(spec); err != nil {
		logDebug("consumer update", "stream", s.stream.Name(), "err", err)
	}
}
