package broker

import (
	"encoding/json"
	"fmt"
	"maps"
)

// Per-vhost and per-user limits, RabbitMQ's set_vhost_limits and
// set_user_limits. They are checked only where a connection, channel or
// queue is created (resource_limits_admit.go), never on the message path.
// Absent or negative means no limit, as in RabbitMQ.

// The limit names, as RabbitMQ spells them.
const (
	LimitMaxConnections = "max-connections" // vhost and user
	LimitMaxQueues      = "max-queues"      // vhost
	LimitMaxChannels    = "max-channels"    // user
)

// Limits maps limit names to values; a negative value or an absent name is
// no limit. The map given to a setter replaces the previous one whole,
// as rabbitmqctl's set_*_limits does; an empty map clears the limits.
type Limits map[string]int

var (
	vhostLimitNames = []string{LimitMaxConnections, LimitMaxQueues}
	userLimitNames  = []string{LimitMaxConnections, LimitMaxChannels}
)

func validateLimits(l Limits, allowed []string, kind string) error {
	for k := range l {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			return fmt.Errorf("broker: unknown %s limit '%s' (known: %v)", kind, k, allowed)
		}
	}
	return nil
}

// limit returns the value of name and whether it is a limit at all.
func (l Limits) limit(name string) (int, bool) {
	n, ok := l[name]
	return n, ok && n >= 0
}

// vhostLimits is a vhost's limits, swapped whole so readers need no lock.
type vhostLimits struct{ l Limits }

func (v *VHost) limitsNow() Limits {
	if p := v.limits.Load(); p != nil {
		return p.l
	}
	return nil
}

// SetVHostLimits replaces the limits of a vhost (max-connections,
// max-queues). They are in definitions.json when this returns. Existing
// connections and queues over a new limit stay, as in RabbitMQ.
func (b *Broker) SetVHostLimits(name string, l Limits) error {
	if err := validateLimits(l, vhostLimitNames, "vhost"); err != nil {
		return err
	}
	v, ok := b.VHost(name)
	if !ok {
		return ErrNoSuchVHost
	}
	old := v.limits.Swap(&vhostLimits{maps.Clone(l)})
	if err := b.saveAccess(); err != nil {
		v.limits.Store(old)
		return err
	}
	return nil
}

// VHostLimits returns a copy of a vhost's limits (empty: none).
func (b *Broker) VHostLimits(name string) (Limits, bool) {
	v, ok := b.VHost(name)
	if !ok {
		return nil, false
	}
	return maps.Clone(v.limitsNow()), true
}

// SetUserLimits replaces the limits of a user (max-connections,
// max-channels), stored with the user in definitions.json.
func (b *Broker) SetUserLimits(user string, l Limits) error {
	return b.cfg.Users.SetLimits(user, l)
}

// UserLimits returns a copy of a user's limits (empty: none).
func (b *Broker) UserLimits(user string) (Limits, bool) {
	return b.cfg.Users.Limits(user)
}

// SetLimits replaces a user's limits.
func (u *Users) SetLimits(user string, l Limits) error {
	u.mu.RLock()
	_, ok := u.users[user]
	u.mu.RUnlock()
	if !ok {
		return ErrNoSuchUser
	}
	if err := u.setLimits(user, l); err != nil {
		return err
	}
	return u.changed()
}

// setLimits sets a user's limits without storing them.
func (u *Users) setLimits(user string, l Limits) error {
	if err := validateLimits(l, userLimitNames, "user"); err != nil {
		return fmt.Errorf("user '%s': %w", user, err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.limits == nil {
		u.limits = make(map[string]Limits)
	}
	if len(l) == 0 {
		delete(u.limits, user)
	} else {
		u.limits[user] = maps.Clone(l)
	}
	return nil
}

// Limits returns a copy of a user's limits.
func (u *Users) Limits(user string) (Limits, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	if _, ok := u.users[user]; !ok {
		return nil, false
	}
	return maps.Clone(u.limits[user]), true
}

func (u *Users) limit(user, name string) (int, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return u.limits[user].limit(name)
}

// parameterDef is an entry of a definitions export's "parameters": vhost
// limits are the component "vhost-limits", name "limits".
type parameterDef struct {
	VHost     string          `json:"vhost"`
	Component string          `json:"component"`
	Name      string          `json:"name"`
	Value     json.RawMessage `json:"value"`
}

const vhostLimitsComponent = "vhost-limits"

// limitParameters is the vhosts' limits as definitions parameters.
func (b *Broker) limitParameters() []parameterDef {
	var out []parameterDef
	for _, n := range b.VHosts() {
		v, ok := b.VHost(n)
		if !ok || len(v.limitsNow()) == 0 {
			continue
		}
		value, err := json.Marshal(v.limitsNow())
		if err != nil {
			continue // a map of ints always marshals
		}
		out = append(out, parameterDef{VHost: n, Component: vhostLimitsComponent, Name: "limits", Value: value})
	}
	return out
}

// applyLimitParameters sets the vhost limits a definitions file holds
// (other components are left to their own importers) without storing.
func (b *Broker) applyLimitParameters(ps []parameterDef) error {
	for _, p := range ps {
		if p.Component != vhostLimitsComponent {
			continue
		}
		var l Limits
		if err := json.Unmarshal(p.Value, &l); err != nil {
			return fmt.Errorf("limits of vhost '%s': %w", p.VHost, err)
		}
		if err := validateLimits(l, vhostLimitNames, "vhost"); err != nil {
			return fmt.Errorf("vhost '%s': %w", p.VHost, err)
		}
		v, ok := b.VHost(p.VHost)
		if !ok {
			return fmt.Errorf("limits of vhost '%s': %w", p.VHost, ErrNoSuchVHost)
		}
		v.limits.Store(&vhostLimits{l})
	}
	return nil
}

// userLimitsFor is a user's limits for its definitions entry.
func (u *Users) userLimitsFor(user string) Limits {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return maps.Clone(u.limits[user])
}
