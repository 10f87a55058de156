package broker

import (
	"bytes"
	"errors"

	"github.com/warrenmq/warren/frame"
	"github.com/warrenmq/warren/segment"
)

// PublishCache remembers one publisher's last exchange and default-exchange
// queue lookups; it is valid while the vhost's topology generation holds.
// Owned by one channel; not safe for concurrent use.
type PublishCache struct {
	gen      uint64
	exchange []byte
	x        *Exchange
	key      []byte
	q        *Queue
	perm     publishPermission
}

// lookupForPublish finds the exchange and, for the default exchange, the
// queue, from the cache when the topology has not changed since.
func (v *VHost) lookupForPublish(m *Message, c *PublishCache) (*Exchange, *Queue) {
	gen := v.topoGen.Load()
	if c.gen == gen && c.x != nil && bytes.Equal(c.exchange, m.Exchange) {
		if c.x.Name != "" || bytes.Equal(c.key, m.RoutingKey) {
			return c.x, c.q
		}
	}
	v.mu.RLock()
	gen = v.topoGen.Load()
	x := v.exchanges[string(m.Exchange)]
	var q *Queue
	if x != nil && x.Name == "" {
		q = v.queues[string(m.RoutingKey)]
	}
	v.mu.RUnlock()
	c.gen, c.x, c.q = gen, x, q
	c.exchange = append(c.exchange[:0], m.Exchange...)
	c.key = append(c.key[:0], m.RoutingKey...)
	return x, q
}

// Publish routes m, published by p, and stores it in every target queue.
// scratch is reused to avoid an allocation per message; the grown slice is
// returned.
func (v *VHost) Publish(p *Principal, m *Message, cache *PublishCache, scratch []*Queue) (PublishResult, []*Queue, error) {
	var res PublishResult
	scratch = scratch[:0]
	x, q := v.lookupForPublish(m, cache)
	if x == nil {
		if err := v.permitExchange(p, permWrite, string(m.Exchange)); err != nil {
			return res, scratch, err
		}
		return res, scratch, notFoundExchange(v, string(m.Exchange))
	}
	if err := v.permitPublish(p, x, m.RoutingKey, &cache.perm); err != nil {
		return res, scratch, err
	}
	if x.Internal {
		return res, scratch, frame.Errorf(frame.AccessRefused, "cannot publish to internal exchange '%s' in vhost '%s'", x.Name, v.Name)
	}
	x.PublishedIn.Add(1)
	if hasExpiration(m.Props) {
		if err := checkExpiration(m.Props); err != nil {
			return res, scratch, err
		}
	}
	if x.ext != nil {
		if res, done, err := v.publishExt(x, m); done {
			return res, scratch, err
		}
	}
	if q != nil {
		scratch = append(scratch, q)
	}
	keys, err := m.senderSelected()
	if err != nil {
		return res, scratch, err
	}
	// The router asks alternate exchanges itself (router/alternate.go).
	switch {
	case x.Name == "":
		if keys.any() {
			scratch = v.routeSenderSelected(x, m, &keys, scratch)
		}
	case x.features != nil && x.features.hashOn != hashRoutingKey:
		scratch = v.routeHashed(x, m, scratch)
	case keys.any():
		scratch = v.routeKeys(x, m, &keys, scratch)
	default:
		scratch = v.router.Route(x.Name, m.RoutingKey, m.headers, scratch)
	}
	if keys.withBCC != nil {
		// Stored with its BCC header, flagged; everything else (a
		// basic.return, the confirm) sees it without.
		stripped := m.Props
		m.Props, m.bcc = keys.withBCC, true
		defer func() { m.Props, m.bcc = stripped, false }()
	}
	for _, q := range scratch {
		gen, stored, err := q.publish(m)
		if errors.Is(err, segment.ErrClosed) {
			// The queue's storage failed (see store.recoverFault): close this
			// channel, not the connection, so unconfirmed publishes are not
			// taken as safe and other queues carry on.
			return res, scratch, frame.Errorf(frame.PreconditionFailed, "queue '%s' in vhost '%s' is unavailable: its storage failed", q.Name, v.Name)
		}
		if err == errQueueFull {
			res.Unstored++ // nacked, not returned
			continue
		}
		if err != nil {
			// A full disk or an I/O error: the message is not in this
			// queue. The others take it; the publisher is told (a nack).
			faultAppend.report(q.Name, err)
			res.Unstored++
			continue
		}
		if stored {
			res.Routed++
			if m.Persistent && gen > res.CommitGen {
				res.CommitGen = gen
			}
		}
	}
	if res.Routed > 0 {
		x.PublishedOut.Add(uint64(res.Routed))
	}
	return res, scratch, nil
}

// headers decodes the headers table only when a headers exchange asks.
func (m *Message) headers() frame.Table {
	t, _ := frame.PropsHeaders(m.Props)
	return t
}
