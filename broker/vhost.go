package broker

import (
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/warrenmq/warren/frame"
	"github.com/warrenmq/warren/router"
)

// VHost is a virtual host: its own exchanges, queues and bindings.
type VHost struct {
	Name   string
	b      *Broker
	dir    string
	router *router.Router[*Queue]
	defs   *defsJournal // durable topology changes; nil while restoring
	// restoreDirs lists the durable queue directories while restore runs
	// (store_unopened.go); nil otherwise.
	restoreDirs map[string]struct{}

	mu        sync.RWMutex
	exchanges map[string]*Exchange
	queues    map[string]*Queue
	// policies and opPolicies are the vhost's policy tables (policies.go),
	// guarded by mu; policyMu serialises policy changes, taken before mu.
	policies   policyTable
	opPolicies policyTable
	policyMu   sync.Mutex
	// topoGen changes whenever an exchange or queue is added or removed, so
	// publishers can cache their lookups (PublishCache) and skip mu.
	topoGen atomic.Uint64
	// gone is set, under mu, when the vhost is deleted (vhosts.go).
	gone atomic.Bool
	// deletedTotals holds deleted queues' counters (counters.go), guarded by mu.
	deletedTotals QueueTotals
	// limits is the vhost's max-connections and max-queues (resource_limits.go).
	limits atomic.Pointer[vhostLimits]
}

func newVHost(b *Broker, name string) (*VHost, error) {
	v := &VHost{
		Name:      name,
		b:         b,
		dir:       filepath.Join(b.cfg.DataDir, "vhosts", nameDir(name)),
		router:    router.New[*Queue](),
		exchanges: make(map[string]*Exchange),
		queues:    make(map[string]*Queue),
	}
	v.router.SetAlternates(v.alternateOf)
	for i := range defaultExchanges {
		d := &defaultExchanges[i]
		k, _ := router.ParseKind(d.Type)
		x := &Exchange{Name: d.Name, Type: d.Type, Kind: k, Durable: d.Durable}
		if x.Name != "" {
			if err := v.router.AddExchange(x.Name, k); err != nil {
				return nil, err
			}
		}
		v.exchanges[x.Name] = x
	}
	return v, nil
}

func notFoundExchange(v *VHost, name string) error {
	return frame.Errorf(frame.NotFound, "no exchange '%s' in vhost '%s'", name, v.Name)
}

func notFoundQueue(v *VHost, name string) error {
	return frame.Errorf(frame.NotFound, "no queue '%s' in vhost '%s'", name, v.Name)
}

func lockedErr(v *VHost, name string) error {
	return frame.Errorf(frame.ResourceLocked,
		"cannot obtain exclusive access to locked queue '%s' in vhost '%s'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.",
		name, v.Name)
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// Exchange returns a declared exchange.
func (v *VHost) Exchange(name string) (*Exchange, bool) {
	v.mu.RLock()
	x, ok := v.exchanges[name]
	v.mu.RUnlock()
	return x, ok
}

// Queue looks a queue up for p to consume from, get from or purge (the
// operations that need read access to it), checking exclusive ownership for
// conn.
func (v *VHost) Queue(p *Principal, name string, conn uint64) (*Queue, error) {
	if err := v.permitQueue(p, permRead, name); err != nil {
		return nil, err
	}
	v.mu.RLock()
	q, ok := v.queues[name]
	v.mu.RUnlock()
	if !ok {
		return nil, notFoundQueue(v, name)
	}
	if q.Exclusive && q.Owner != conn {
		return nil, lockedErr(v, name)
	}
	return q, nil
}
