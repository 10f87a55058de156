package broker

import (
	"cmp"
	"slices"
)

// Read-only listings for management. Each takes the lock it needs only to
// copy a slice of pointers, and sorts after releasing it; the objects are
// read through their own accessors (counters are atomics).

// VHostObjects returns the virtual hosts by name (VHosts gives their names).
func (b *Broker) VHostObjects() []*VHost {
	b.mu.RLock()
	out := make([]*VHost, 0, len(b.vhosts))
	for _, v := range b.vhosts {
		out = append(out, v)
	}
	b.mu.RUnlock()
	slices.SortFunc(out, func(x, y *VHost) int { return cmp.Compare(x.Name, y.Name) })
	return out
}

// Queues returns the vhost's queues by name.
func (v *VHost) Queues() []*Queue {
	v.mu.RLock()
	out := make([]*Queue, 0, len(v.queues))
	for _, q := range v.queues {
		out = append(out, q)
	}
	v.mu.RUnlock()
	slices.SortFunc(out, func(x, y *Queue) int { return cmp.Compare(x.Name, y.Name) })
	return out
}

// QueueByName looks a queue up without the exclusive-owner check that
// Queue makes for a connection: management sees every queue.
func (v *VHost) QueueByName(name string) (*Queue, bool) {
	v.mu.RLock()
	q, ok := v.queues[name]
	v.mu.RUnlock()
	return q, ok
}

// Exchanges returns the vhost's exchanges by name ("" first).
func (v *VHost) Exchanges() []*Exchange {
	v.mu.RLock()
	out := make([]*Exchange, 0, len(v.exchanges))
	for _, x := range v.exchanges {
		out = append(out, x)
	}
	v.mu.RUnlock()
	slices.SortFunc(out, func(x, y *Exchange) int { return cmp.Compare(x.Name, y.Name) })
	return out
}

// ObjectCounts are the sizes of the vhost's tables.
type ObjectCounts struct{ Queues, Exchanges int }

// Counts is the number of queues and exchanges in v.
func (v *VHost) Counts() ObjectCounts {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return ObjectCounts{Queues: len(v.queues), Exchanges: len(v.exchanges)}
}
