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
// header as its field-table tuple ({longstr, <<"v">>}, {signedint, 5}),
// a property as a binary (timestamp in decimal), and a message without it
// as the atom undefined, so all such messages go to one queue, as there.
func (v *VHost) routeHashed(x *Exchange, m *Message, dst []*Queue) []*Queue {
	var buf [20]byte
	h := router.Phash2Atom("undefined")
	f := x.features
	switch f.hashOn {
	case hashHeader:
		if hf, ok := frame.PropsHeaderField(m.Props, f.hashName); ok {
			h = phash2Field(hf.Tag, hf.Value)
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

// phash2Field is erlang:phash2 of a header value as RabbitMQ decodes it,
// {Type, Value}; v is the value's bytes after its tag. Values the plugin
// would hash as floats, bignums or nested terms (rare as hash keys) hash
// as their bytes instead, which spreads them as well but not onto the
// plugin's queue.
func phash2Field(tag byte, v []byte) uint32 {
	be := func(n int) uint64 {
		var x uint64
		for _, c := range v[:n] {
			x = x<<8 | uint64(c)
		}
		return x
	}
	var n int64
	var name string
	switch tag {
	case 'S':
		return router.Phash2TaggedBinary("longstr", v[min(4, len(v)):])
	case 'x':
		return router.Phash2TaggedBinary("binary", v[min(4, len(v)):])
	case 't':
		if v[0] != 0 {
			return router.Phash2TaggedAtom("bool", "true")
		}
		return router.Phash2TaggedAtom("bool", "false")
	case 'V':
		return router.Phash2TaggedAtom("void", "undefined")
	case 'b':
		n, name = int64(int8(v[0])), "byte"
	case 'B':
		n, name = int64(v[0]), "unsignedbyte"
	case 's':
		n, name = int64(int16(be(2))), "short"
	case 'u':
		n, name = int64(be(2)), "unsignedshort"
	case 'I':
		n, name = int64(int32(be(4))), "signedint"
	case 'i':
		n, name = int64(be(4)), "unsignedint"
	case 'l':
		n, name = int64(be(8)), "long"
	case 'T':
		n, name = int64(be(8)), "timestamp"
	default:
		return router.Phash2Binary(v)
	}
	if h, ok := router.Phash2TaggedInt(name, n); ok {
		return h
	}
	return router.Phash2Binary(v)
}
