package broker

import (
	"cmp"
	"net"
	"slices"
	"sync"
)

// The broker's open listeners, as RabbitMQ's overview lists them: each
// transport (netio's AMQP and AMQPS, the stream protocol, management's
// HTTP, HTTPS and Prometheus listeners) adds its listener while it
// accepts, so management lists them all without knowing who opened them.

// Listener is one open listener.
type Listener struct {
	// Protocol is RabbitMQ's name: "amqp", "amqp/ssl", "stream",
	// "stream/ssl", "http", "https", "http/prometheus".
	Protocol string
	Addr     net.Addr
}

type listenerSet struct {
	mu   sync.Mutex
	next uint64
	m    map[uint64]Listener
}

// AddListener lists a listener until remove is called.
func (b *Broker) AddListener(protocol string, addr net.Addr) (remove func()) {
	s := &b.listeners
	s.mu.Lock()
	if s.m == nil {
		s.m = map[uint64]Listener{}
	}
	id := s.next
	s.next++
	s.m[id] = Listener{Protocol: protocol, Addr: addr}
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.m, id)
			s.mu.Unlock()
		})
	}
}

// Listeners are the open listeners, ordered by protocol then address
// (RabbitMQ's overview order).
func (b *Broker) Listeners() []Listener {
	s := &b.listeners
	s.mu.Lock()
	out := make([]Listener, 0, len(s.m))
	for _, l := range s.m {
		out = append(out, l)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(x, y Listener) int {
		return cmp.Or(cmp.Compare(x.Protocol, y.Protocol), cmp.Compare(x.Addr.String(), y.Addr.String()))
	})
	return out
}
