package broker

import (
	"strconv"

	"github.com/warrenmq/warren/frame"
	"github.com/warrenmq/warren/router"
)

// The consistent-hash exchange hashes the routing key, or what its
// hash-header or hash-property argument names (router/hash.go has the
// ring, router/hash_erlang.go the plugin's hash). The broker picks that
// input; the router hashes it.

type hashSource uint8

const (
	hashRoutingKey hashSource = iota
	hashHeader
	hashProperty
)

// validateHashArgs refuses what the plugin's validate/1 refuses.
func validateHashArgs(args frame.Table) error {
	_, hasH := args["hash-header"].(string)
	p, hasP := args["hash-property"].(string)
	switch {
	case hasH && hasP:
		return frame.Errorf(frame.PreconditionFailed, "hash-header and hash-property are mutually exclusive")
	case hasP && p != "correlation_id" && p != "message_id" && p != "timestamp":
		return frame.Errorf(frame.PreconditionFailed, "Unsupported property: %s", p)
	}
	return nil
}

// hashFeatures sets f's hash source from validated arguments and reports
// whether there is one other than the routing key.
func hashFeatures(f *exchangeFeatures, kind router.Kind, args frame.Table) bool {
	if kind != router.KindConsistentHash {
		return false
	}
	if h, ok := args["hash-header"].(string); ok {
		f.hashOn, f.hashName = hashHeader, h
		return true
	}
	if p, ok := args["hash-property"].(string); ok {
		f.hashOn, f.hashName = hashProperty, p
		return true
	}
	return false
}

// routeHashed routes m on a consistent-hash exchange that hashes a header
// or a property, by the erlang:phash2 of the value the plugin hashes: a
// header as its field-table tuple ({longstr, <<"v">>}, {signedint, 5},
// {table, [...]}: router.Phash2Field),
// a property as a binary (timestamp in decimal), and a message without it
// as the atom undefined, so all such messages go to one queue, as there.
func (v *VHost) routeHashed(x *Exchange, m *Message, dst []*Queue) []*Queue {
	var buf [20]byte
	h := router.Phash2Atom("undefined")
	f := x.features
	switch f.hashOn {
	case hashHeader:
		if hf, ok := frame.PropsHeaderField(m.Props, f.hashName); ok {
			h = router.Phash2Field(hf.Tag, hf.Value)
		}
	case hashProperty:
		var key []byte
		ok := false
		switch f.hashName {
		case "message_id":
			key, ok = frame.PropsShortstr(m.Props, frame.PropMessageID)
		case "correlation_id":
			key, ok = frame.PropsShortstr(m.Props, frame.PropCorrelationID)
		case "timestamp":
			var ts uint64
			if ts, ok = frame.PropsTimestamp(m.Props); ok {
				key = strconv.AppendUint(buf[:0], ts, 10)
			}
		}
		if ok {
			h = router.Phash2Binary(key)
		}
	}
	return v.router.RouteHashed(x.Name, h, m.RoutingKey, m.headers, dst)
}
