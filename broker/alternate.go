package broker

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/warrenmq/warren/frame"
	"github.com/warrenmq/warren/router"
)

// alternateExchangeArg is the exchange argument naming where messages the
// exchange cannot route go (RabbitMQ's alternate exchanges).
const alternateExchangeArg = "alternate-exchange"

// maxAlternateChain bounds how many alternates one publish follows; a
// longer chain is a cycle or a misconfiguration, and RabbitMQ also stops
// at the first exchange it has seen before.
const maxAlternateChain = 16

// validateExchangeArgs refuses argument values RabbitMQ refuses at
// exchange.declare.
func validateExchangeArgs(v *VHost, name string, kind router.Kind, args frame.Table) error {
	if kind == router.KindConsistentHash {
		if err := validateHashArgs(args); err != nil {
			return err
		}
	}
	if a, ok := args[alternateExchangeArg]; ok {
		if _, isStr := a.(string); !isStr {
			return frame.Errorf(frame.PreconditionFailed, "invalid type '%s' for arg '%s' in exchange '%s' in vhost '%s'",
				tableType(a), alternateExchangeArg, name, v.Name)
		}
	}
	return nil
}

// checkExchangeArgsEquivalent is RabbitMQ's assert_args_equivalence for
// exchanges: of the arguments, only alternate-exchange is compared.
func checkExchangeArgsEquivalent(v *VHost, x *Exchange, got frame.Table) error {
	cur, hasCur := x.Args[alternateExchangeArg]
	rcv, hasRcv := got[alternateExchangeArg]
	if hasCur == hasRcv && (!hasCur || argsEqual(cur, rcv)) {
		return nil
	}
	curS, rcvS := "none", "none"
	if hasCur {
		curS = fmt.Sprintf("the value '%v' of type '%s'", cur, tableType(cur))
	}
	if hasRcv {
		rcvS = fmt.Sprintf("the value '%v' of type '%s'", rcv, tableType(rcv))
	}
	return frame.Errorf(frame.PreconditionFailed,
		"inequivalent arg '%s' for exchange '%s' in vhost '%s': received %s but current is %s",
		alternateExchangeArg, x.Name, v.Name, rcvS, curS)
}

// exchangeFeatures are the settings an exchange's arguments give the
// publish path. An exchange without any has none (Exchange.features nil),
// so plain exchanges pay one nil check per unroutable message.
type exchangeFeatures struct {
	alternate    string // alternate-exchange; hasAlternate says whether set
	hasAlternate bool
	hashOn       hashSource // x-consistent-hash: what is hashed
	hashName     string     // the header or property hashOn names
}

// featuresFromArgs reads the settings from validated arguments; nil when
// the exchange uses none.
func featuresFromArgs(kind router.Kind, args frame.Table) *exchangeFeatures {
	var f exchangeFeatures
	used := hashFeatures(&f, kind, args)
	if s, ok := args[alternateExchangeArg].(string); ok {
		f.alternate, f.hasAlternate, used = s, true, true
	}
	if !used {
		return nil
	}
	return &f
}

// routeAlternates follows x's alternate exchanges, as RabbitMQ does for a
// message x routed nowhere: the first alternate that routes it somewhere
// ends the chain, an exchange seen before ends it too (cycles are
// harmless), and a missing alternate is logged once and routes nowhere.
// Only unroutable messages on exchanges that have an alternate get here.
func (v *VHost) routeAlternates(x *Exchange, m *Message, keys *senderKeys, dst []*Queue) []*Queue {
	var seenBuf [maxAlternateChain]*Exchange
	seen := append(seenBuf[:0], x)
	for len(seen) < maxAlternateChain {
		name, ok := x.alternateExchange()
		if !ok {
			return dst
		}
		v.mu.RLock()
		ae := v.exchanges[name]
		v.mu.RUnlock()
		if ae == nil {
			warnMissingAlternate(v, x, name)
			return dst
		}
		if slices.Contains(seen, ae) {
			return dst
		}
		seen = append(seen, ae)
		dst = v.routeAll(ae, m, keys, dst)
		if len(dst) > 0 {
			return dst
		}
		x = ae
	}
	return dst
}

// routeOne appends the queues x routes key to: the default exchange routes
// to the queue of that name.
func (v *VHost) routeOne(x *Exchange, key []byte, m *Message, dst []*Queue) []*Queue {
	if x.Name != "" {
		return v.router.Route(x.Name, key, m.headers, dst)
	}
	v.mu.RLock()
	q := v.queues[string(key)]
	v.mu.RUnlock()
	if q != nil {
		dst = append(dst, q)
	}
	return dst
}

func warnMissingAlternate(v *VHost, x *Exchange, name string) {
	if x.aeWarned.Swap(true) {
		return
	}
	slog.Warn("alternate exchange does not exist; unroutable messages are dropped",
		"exchange", x.Name, "alternate_exchange", name, "vhost", v.Name)
}

// routeAll appends the queues x routes m to, CC and BCC keys included.
func (v *VHost) routeAll(x *Exchange, m *Message, keys *senderKeys, dst []*Queue) []*Queue {
	dst = v.routeOne(x, m.RoutingKey, m, dst)
	if keys.any() {
		dst = v.routeSenderSelected(x, m, keys, dst)
	}
	return dst
}
