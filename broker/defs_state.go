package broker

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// defsChange is one journal record: a durable entity added or removed.
type defsChange struct {
	Op       string       `json:"op"`
	Exchange *exchangeDef `json:"exchange,omitempty"`
	Queue    *queueDef    `json:"queue,omitempty"`
	Binding  *bindingDef  `json:"binding,omitempty"`
	Policy   *Policy      `json:"policy,omitempty"`
	Name     string       `json:"name,omitempty"` // of the deleted exchange, queue or policy
}

// Journal ops.
const (
	opExchangeDeclare = "exchange.declare"
	opExchangeDelete  = "exchange.delete"
	opQueueDeclare    = "queue.declare"
	opQueueDelete     = "queue.delete"
	opBind            = "bind"
	opUnbind          = "unbind"

	opPolicySet            = "policy.set"
	opPolicyDelete         = "policy.delete"
	opOperatorPolicySet    = "operator_policy.set"
	opOperatorPolicyDelete = "operator_policy.delete"
)

// defsState is a vhost's durable topology being rebuilt at start: the
// snapshot, then each journal record applied in order.
type defsState struct {
	exchanges  map[string]exchangeDef
	queues     map[string]queueDef
	bindings   map[string]bindingDef
	policies   map[string]Policy
	opPolicies map[string]Policy
	// byEnd finds the bindings of an exchange ("x:name") or queue
	// ("q:name"), so a delete drops them without a scan.
	byEnd map[string]endBindings
}

// endBindings is the set of binding keys at one end. Most queues have one
// binding, kept inline: a map per queue was a sixth of a restart with
// 100,000 queues.
type endBindings struct {
	one  string              // the only key while more is nil ("" is never a key)
	more map[string]struct{} // every key, once there were two
}

func (e endBindings) add(k string) endBindings {
	switch {
	case e.more != nil:
		e.more[k] = struct{}{}
	case e.one == "" || e.one == k:
		e.one = k
	default:
		e = endBindings{more: map[string]struct{}{e.one: {}, k: {}}}
	}
	return e
}

func (e endBindings) keys() []string {
	if e.more == nil {
		return []string{e.one}
	}
	ks := make([]string, 0, len(e.more))
	for k := range e.more {
		ks = append(ks, k)
	}
	return ks
}

func newDefsState(d definitions) *defsState {
	s := &defsState{
		exchanges:  make(map[string]exchangeDef, len(d.Exchanges)),
		queues:     make(map[string]queueDef, len(d.Queues)),
		bindings:   make(map[string]bindingDef, len(d.Bindings)),
		byEnd:      make(map[string]endBindings),
		policies:   make(map[string]Policy, len(d.Policies)),
		opPolicies: make(map[string]Policy, len(d.OperatorPolicies)),
	}
	for _, p := range d.Policies {
		s.policies[p.Name] = p
	}
	for _, p := range d.OperatorPolicies {
		s.opPolicies[p.Name] = p
	}
	for _, x := range d.Exchanges {
		s.exchanges[x.Name] = x
	}
	for _, q := range d.Queues {
		s.queues[q.Name] = q
	}
	for _, b := range d.Bindings {
		s.bind(b)
	}
	return s
}

// bindingKey is a binding's identity: its ends, key and arguments, each
// length-prefixed as names may hold any byte.
func bindingKey(b bindingDef) string {
	var args []byte
	if len(b.Arguments) > 0 {
		args, _ = json.Marshal(b.Arguments) // map keys come out sorted
	}
	var sb strings.Builder
	for _, part := range []string{b.Source, b.DestinationType, b.Destination, b.RoutingKey, string(args)} {
		sb.WriteString(strconv.Itoa(len(part)))
		sb.WriteByte(':')
		sb.WriteString(part)
	}
	return sb.String()
}

func destEnd(b bindingDef) string {
	if b.DestinationType == "exchange" {
		return "x:" + b.Destination
	}
	return "q:" + b.Destination
}

func (s *defsState) bind(b bindingDef) {
	k := bindingKey(b)
	s.bindings[k] = b
	for _, end := range [2]string{"x:" + b.Source, destEnd(b)} {
		s.byEnd[end] = s.byEnd[end].add(k)
	}
}

func (s *defsState) unbind(k string) {
	b, ok := s.bindings[k]
	if !ok {
		return
	}
	delete(s.bindings, k)
	for _, end := range [2]string{"x:" + b.Source, destEnd(b)} {
		e := s.byEnd[end]
		if e.more == nil {
			delete(s.byEnd, end)
		} else {
			delete(e.more, k)
		}
	}
}

func (s *defsState) dropEnd(end string) {
	e, ok := s.byEnd[end]
	if !ok {
		return
	}
	for _, k := range e.keys() {
		s.unbind(k)
	}
	delete(s.byEnd, end)
}

// apply replays one journal record.
func (s *defsState) apply(payload []byte) error {
	var c defsChange
	if err := json.Unmarshal(payload, &c); err != nil {
		return err
	}
	switch {
	case c.Op == opExchangeDeclare && c.Exchange != nil:
		s.exchanges[c.Exchange.Name] = *c.Exchange
	case c.Op == opExchangeDelete:
		delete(s.exchanges, c.Name)
		s.dropEnd("x:" + c.Name)
	case c.Op == opQueueDeclare && c.Queue != nil:
		s.queues[c.Queue.Name] = *c.Queue
	case c.Op == opQueueDelete:
		delete(s.queues, c.Name)
		s.dropEnd("q:" + c.Name)
	case c.Op == opBind && c.Binding != nil:
		s.bind(*c.Binding)
	case c.Op == opUnbind && c.Binding != nil:
		s.unbind(bindingKey(*c.Binding))
	case c.Op == opPolicySet && c.Policy != nil:
		s.policies[c.Policy.Name] = *c.Policy
	case c.Op == opPolicyDelete:
		delete(s.policies, c.Name)
	case c.Op == opOperatorPolicySet && c.Policy != nil:
		s.opPolicies[c.Policy.Name] = *c.Policy
	case c.Op == opOperatorPolicyDelete:
		delete(s.opPolicies, c.Name)
	default:
		return fmt.Errorf("unknown definitions change %q", c.Op)
	}
	return nil
}

func (s *defsState) definitions(vhost string) definitions {
	d := definitions{
		VHost:     vhost,
		Exchanges: make([]exchangeDef, 0, len(s.exchanges)),
		Queues:    make([]queueDef, 0, len(s.queues)),
		Bindings:  make([]bindingDef, 0, len(s.bindings)),
	}
	for _, x := range s.exchanges {
		d.Exchanges = append(d.Exchanges, x)
	}
	for _, q := range s.queues {
		d.Queues = append(d.Queues, q)
	}
	for _, b := range s.bindings {
		d.Bindings = append(d.Bindings, b)
	}
	for _, p := range s.policies {
		d.Policies = append(d.Policies, p)
	}
	for _, p := range s.opPolicies {
		d.OperatorPolicies = append(d.OperatorPolicies, p)
	}
	return d
}
