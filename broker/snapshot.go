package broker

import (
	"cmp"
	"slices"
	"sync"
)

// Read-only listings for management. Each takes the lock it needs only to
// copy a slice of pointers, and sorts after releasing it; the objects are
// read through their own accessors (counters are atomics).

// byName copies m's entries under mu's read lock and sorts them by name
// once it is released.
func byName[V any](mu *sync.RWMutex, m map[string]V) []V {
	type entry struct {
		name string
		v    V
	}
	mu.RLock()
	es := make([]entry, 0, len(m))
	for k, v := range m {
		es = append(es, entry{k, v})
	}
	mu.RUnlock()
	slices.SortFunc(es, func(x, y entry) int { return cmp.Compare(x.name, y.name) })
	out := make([]V, len(es))
	for i, e := range es {
		out[i] = e.v
	}
	return out
}

// VHostObjects returns the virtual hosts by name (VHosts gives their names).
func (b *Broker) VHostObjects() []*VHost { return byName(&b.mu, b.vhosts) }

// Queues returns the vhost's queues by name.
func (v *VHost) Queues() []*Queue { return byName(&v.mu, v.queues) }

// QueueByName looks a queue up without the exclusive-owner check that
// Queue makes for a connection: management sees every queue.
func (v *VHost) QueueByName(name string) (*Queue, bool) {
	v.mu.RLock()
	q, ok := v.queues[name]
	v.mu.RUnlock()
	return q, ok
}

// Exchanges returns the vhost's exchanges by name ("" first).
func (v *VHost) Exchanges() []*Exchange { return byName(&v.mu, v.exchanges) }

// ObjectCounts are the sizes of the vhost's tables.
type ObjectCounts struct{ Queues, Exchanges int }

// Counts is the number of queues and exchanges in v.
func (v *VHost) Counts() ObjectCounts {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return ObjectCounts{Queues: len(v.queues), Exchanges: len(v.exchanges)}
}
