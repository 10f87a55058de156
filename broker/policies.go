package broker

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/warrenmq/warren/frame"
)

// Policy is a RabbitMQ policy or operator policy: the definition of the
// highest-priority one whose pattern matches a queue's or exchange's name
// (and whose apply-to covers it) gives it settings its declare did not.
// The JSON shape is the management API's and the definitions export's.
type Policy struct {
	VHost      string         `json:"vhost"`
	Name       string         `json:"name"`
	Pattern    string         `json:"pattern"`
	ApplyTo    string         `json:"apply-to"`
	Definition map[string]any `json:"definition"`
	Priority   float64        `json:"priority"` // any number, as RabbitMQ's
}

// PolicyKind says which of a vhost's two policy tables is meant.
type PolicyKind int

// The two tables. Operator policies cap what users' policies and queue
// arguments ask for: only numeric limits are allowed in them, and for each
// the lower value wins.
const (
	UserPolicy PolicyKind = iota
	OperatorPolicy
)

func (k PolicyKind) String() string {
	if k == OperatorPolicy {
		return "operator policy"
	}
	return "policy"
}

// compiledPolicy is a validated policy with its pattern compiled.
type compiledPolicy struct {
	Policy
	re *regexp.Regexp
}

// policyTable is one of a vhost's policy tables, keyed by name.
type policyTable map[string]*compiledPolicy

func (v *VHost) policyTableLocked(k PolicyKind) policyTable {
	if k == OperatorPolicy {
		if v.opPolicies == nil {
			v.opPolicies = make(policyTable)
		}
		return v.opPolicies
	}
	if v.policies == nil {
		v.policies = make(policyTable)
	}
	return v.policies
}

// match returns the policy that applies to the named queue (isQueue) or
// exchange: the highest priority among those matching. RabbitMQ leaves the
// order of equal priorities to its table's hash order (an unsorted mnesia
// set); Warren takes the first name in byte order, so the choice is stable
// across restarts.
func (t policyTable) match(name string, isQueue bool) *compiledPolicy {
	var best *compiledPolicy
	for _, p := range t {
		if !p.appliesTo(isQueue) || !p.re.MatchString(name) {
			continue
		}
		if best == nil || p.Priority > best.Priority || (p.Priority == best.Priority && p.Name < best.Name) {
			best = p
		}
	}
	return best
}

func (p *compiledPolicy) appliesTo(isQueue bool) bool {
	switch p.ApplyTo {
	case "all":
		return true
	case "queues":
		return isQueue
	case "exchanges":
		return !isQueue
	}
	return false
}

func (p *compiledPolicy) definition() map[string]any {
	if p == nil {
		return nil
	}
	return p.Definition
}

// list returns the table's policies sorted by name.
func (t policyTable) list() []Policy {
	out := make([]Policy, 0, len(t))
	for _, p := range t {
		out = append(out, p.Policy)
	}
	slices.SortFunc(out, func(a, b Policy) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Policies returns the vhost's policies of kind k, sorted by name.
func (v *VHost) Policies(k PolicyKind) []Policy {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if k == OperatorPolicy {
		return v.opPolicies.list()
	}
	return v.policies.list()
}

// Policy returns one policy of kind k.
func (v *VHost) Policy(k PolicyKind, name string) (Policy, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	t := v.policies
	if k == OperatorPolicy {
		t = v.opPolicies
	}
	p, ok := t[name]
	if !ok {
		return Policy{}, false
	}
	return p.Policy, true
}

// SetPolicy creates or replaces a policy (validated as RabbitMQ does: a
// *PolicyError says what is wrong) and applies it at once to every queue
// and exchange it matches, and to those it no longer matches. It returns
// whether the policy is new, once the change is on disk.
func (v *VHost) SetPolicy(k PolicyKind, p Policy) (created bool, err error) {
	p.VHost = v.Name
	cp, err := compilePolicy(k, p)
	if err != nil {
		return false, err
	}
	v.policyMu.Lock()
	defer v.policyMu.Unlock()
	v.mu.Lock()
	t := v.policyTableLocked(k)
	old, existed := t[p.Name]
	t[p.Name] = cp
	c, err := v.journalLocked(policyChange(k, policySetOp(k), cp.Policy), true)
	if err != nil {
		if existed {
			t[p.Name] = old
		} else {
			delete(t, p.Name)
		}
		v.mu.Unlock()
		return false, err
	}
	work := v.policyWorkLocked()
	v.mu.Unlock()
	work.apply()
	return !existed, c.Wait()
}

// DeletePolicy removes a policy and takes its settings off what it
// applied to. It returns false if there was none of that name.
func (v *VHost) DeletePolicy(k PolicyKind, name string) (bool, error) {
	v.policyMu.Lock()
	defer v.policyMu.Unlock()
	v.mu.Lock()
	t := v.policyTableLocked(k)
	if _, ok := t[name]; !ok {
		v.mu.Unlock()
		return false, nil
	}
	c, err := v.journalLocked(policyChange(k, policyDeleteOp(k), Policy{Name: name}), false)
	if err != nil {
		v.mu.Unlock()
		return true, err
	}
	delete(t, name)
	work := v.policyWorkLocked()
	v.mu.Unlock()
	work.apply()
	return true, c.Wait()
}

// policyWork is what a policy change does to the queues and exchanges:
// the lists and the new tables are taken under the vhost's lock, the
// matching and reconfiguring are done after it is released, so a change
// over 100,000 queues holds the vhost only for copying pointers, and a
// queue's reaction may move messages into other queues (dead lettering
// publishes, which reads the vhost). A queue or exchange created meanwhile
// takes its settings from the new tables at creation; one deleted
// meanwhile is skipped.
type policyWork struct {
	queues    []*Queue
	exchanges []*Exchange
	pol, op   policyTable
}

// policyWorkLocked takes what policyWork needs. REQUIRES: v.mu held.
func (v *VHost) policyWorkLocked() policyWork {
	w := policyWork{
		queues:    make([]*Queue, 0, len(v.queues)),
		exchanges: make([]*Exchange, 0, len(v.exchanges)),
		pol:       maps.Clone(v.policies),
		op:        maps.Clone(v.opPolicies),
	}
	for _, q := range v.queues {
		w.queues = append(w.queues, q)
	}
	for _, x := range v.exchanges {
		w.exchanges = append(w.exchanges, x)
	}
	return w
}

func (w policyWork) apply() {
	for _, x := range w.exchanges {
		x.setPolicy(w.pol)
	}
	for _, q := range w.queues {
		q.applyPolicySettings(settingsUnder(w.pol, w.op, q.Name, q.Args))
	}
}

// applyPolicySettings reconfigures q if the policies changed its settings.
// Policy changes are serialised by the vhost's policyMu, so nothing else
// changes q.cfg between the check and reconfigure.
func (q *Queue) applyPolicySettings(s queueSettings) {
	q.mu.Lock()
	same := q.deleted || q.cfg == s
	q.mu.Unlock()
	if !same {
		q.reconfigure(s)
	}
}

// queueSettingsLocked is what a queue of that name and arguments runs
// with under the vhost's current policies. REQUIRES: v.mu held.
func (v *VHost) queueSettingsLocked(name string, args frame.Table) queueSettings {
	return settingsUnder(v.policies, v.opPolicies, name, args)
}

// settingsUnder is what a queue runs with under the policy tables pol, op.
func settingsUnder(pol, op policyTable, name string, args frame.Table) queueSettings {
	if len(pol) == 0 && len(op) == 0 {
		return settingsFromArgs(args)
	}
	return effectiveSettings(args, pol.match(name, true).definition(), op.match(name, true).definition())
}

// exchangePolicy is the part of a policy an exchange acts on; an
// exchange whose policy gives none of it holds nil.
type exchangePolicy struct {
	alternateExchange string
}

// applyExchangePolicyLocked sets a new exchange's policy settings from
// the vhost's policies. REQUIRES: v.mu held.
func (v *VHost) applyExchangePolicyLocked(x *Exchange) { x.setPolicy(v.policies) }

// setPolicy sets x's policy settings from the policy table pol.
// Publishers read them without the vhost's lock.
func (x *Exchange) setPolicy(pol policyTable) {
	def := pol.match(x.Name, false).definition()
	ae, ok := def["alternate-exchange"].(string)
	if !ok {
		if x.policy.Load() != nil {
			x.policy.Store(nil)
		}
		return
	}
	if cur := x.policy.Load(); cur != nil && cur.alternateExchange == ae {
		return
	}
	x.policy.Store(&exchangePolicy{alternateExchange: ae})
}

// alternateExchange is the exchange's effective alternate exchange: its
// alternate-exchange argument, else its policy's, as RabbitMQ's
// rabbit_policy:get_arg. Safe without locks.
func (x *Exchange) alternateExchange() (string, bool) {
	if ae, ok := x.Args["alternate-exchange"].(string); ok {
		return ae, true
	}
	if p := x.policy.Load(); p != nil {
		return p.alternateExchange, true
	}
	return "", false
}

// exchangePolicyRef is the exchange's policy settings, swapped whole.
type exchangePolicyRef = atomic.Pointer[exchangePolicy]

// Policies returns every vhost's policies of kind k, sorted by vhost and
// name.
func (b *Broker) Policies(k PolicyKind) []Policy {
	b.mu.RLock()
	vhosts := make([]*VHost, 0, len(b.vhosts))
	for _, v := range b.vhosts {
		vhosts = append(vhosts, v)
	}
	b.mu.RUnlock()
	slices.SortFunc(vhosts, func(a, b *VHost) int { return strings.Compare(a.Name, b.Name) })
	var out []Policy
	for _, v := range vhosts {
		out = append(out, v.Policies(k)...)
	}
	return out
}

// EffectivePolicy says which policy and operator policy apply to the named
// queue and the definition they make together (operator limits merged by
// the lower value), as the management API's queue listing shows them
// ("policy", "operator_policy", "effective_policy_definition"). Empty
// names: none applies.
func (v *VHost) EffectivePolicy(queue string) (policy, operatorPolicy string, definition map[string]any) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	p, op := v.policies.match(queue, true), v.opPolicies.match(queue, true)
	definition = make(map[string]any)
	if p != nil {
		policy = p.Name
		for k, val := range p.Definition {
			definition[k] = val
		}
	}
	if op != nil {
		operatorPolicy = op.Name
		for k, val := range op.Definition {
			if n, ok := mergedPolicyLimit(k, p.definition(), op.Definition); ok {
				definition[k] = n
			} else {
				definition[k] = val
			}
		}
	}
	return policy, operatorPolicy, definition
}
