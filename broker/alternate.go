package broker

import (
	"fmt"
	"log/slog"

	"github.com/warrenmq/warren/frame"
	"github.com/warrenmq/warren/router"
)

// alternateExchangeArg is the exchange argument naming where messages the
// exchange cannot route go (RabbitMQ's alternate exchanges).
const alternateExchangeArg = "alternate-exchange"

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

// alternateOf is the router's Alternates: the effective alternate
// exchange of the exchange named, if it has one that exists; a missing
// alternate is logged once and routes nowhere. The router asks only for
// exchanges that routed a message nowhere.
func (v *VHost) alternateOf(name string) (string, bool) {
	v.mu.RLock()
	x := v.exchanges[name]
	v.mu.RUnlock()
	if x == nil {
		return "", false
	}
	ae, ok := x.alternateExchange()
	if !ok {
		return "", false
	}
	v.mu.RLock()
	a := v.exchanges[ae]
	v.mu.RUnlock()
	if a == nil {
		warnMissingAlternate(v, x, ae)
		return "", false
	}
	return ae, true
}

// maxRouteKeys is how many routing keys a publish routes with a buffer on
// the stack; a message with more CC and BCC keys costs an allocation.
const maxRouteKeys = 16

// routeKeys appends the queues x routes m to with its routing key and its
// CC and BCC keys, all at once, as RabbitMQ routes a message's keys.
func (v *VHost) routeKeys(x *Exchange, m *Message, k *senderKeys, dst []*Queue) []*Queue {
	var buf [maxRouteKeys][]byte
	keys := append(buf[:0], m.RoutingKey)
	add := func(key []byte) { keys = append(keys, key) }
	if k.cc.Tag == 'A' {
		frame.ArrayStrings(k.cc.Value, add)
	}
	if k.bcc.Tag == 'A' {
		frame.ArrayStrings(k.bcc.Value, add)
	}
	return v.router.RouteKeys(x.Name, keys, m.headers, dst)
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
