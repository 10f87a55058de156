package broker

import (
	"slices"

	"github.com/warrenmq/warren/frame"
)

// Sender-selected distribution (RabbitMQ's CC and BCC headers): each
// longstr in either array is one more routing key, on the same exchange,
// and BCC is removed from the message before it is stored, so no receiver
// sees it. A message without headers costs one flag test; one with headers
// but neither key, a scan of the table that allocates nothing.

// senderKeys are a message's CC and BCC arrays (Tag 'A' when present).
// withBCC is the message's properties with its BCC header when it had one
// (Message.Props is then without): what the queues store, flagged, so that
// dead lettering can route with the BCC keys as RabbitMQ does (they stay in
// its message's routing keys); deliveries strip it again (storeBCCFlag).
type senderKeys struct {
	cc, bcc frame.HeaderField
	withBCC []byte
}

func (k *senderKeys) any() bool { return k.cc.Tag == 'A' || k.bcc.Tag == 'A' }

// senderSelected finds m's CC and BCC arrays and, when it carries BCC,
// strips it from m.Props. Either header of a type other than array is
// refused as RabbitMQ refuses it.
func (m *Message) senderSelected() (k senderKeys, err error) {
	if len(m.Props) < 2 || m.Props[0]&byte(frame.PropHeaders>>8) == 0 {
		// The flag test inline: the call returning two empty fields
		// cost 3-5% of the broker in case 2 (1 KiB, no headers).
		return k, nil
	}
	cc, hasCC, bcc, hasBCC := frame.PropsHeaderFieldPair(m.Props, "CC", "BCC")
	if !hasCC && !hasBCC {
		return k, nil
	}
	if hasCC && cc.Tag != 'A' {
		return k, badRoutingHeader("CC", cc.Tag)
	}
	if hasBCC && bcc.Tag != 'A' {
		return k, badRoutingHeader("BCC", bcc.Tag)
	}
	if hasBCC {
		// bcc.Value still points into the original properties, which
		// stay alive until the publish is done.
		k.withBCC = m.Props
		m.Props = frame.PropsWithoutHeaderField(m.Props, bcc)
		k.bcc = bcc
	}
	if hasCC {
		k.cc = cc
	}
	return k, nil
}

func badRoutingHeader(name string, tag byte) error {
	return frame.Errorf(frame.PreconditionFailed, "invalid message: {unacceptable_type_in_header,\"%s\",%s}", name, erlangFieldType(tag))
}

// erlangFieldType names a field type tag as RabbitMQ's error terms do.
func erlangFieldType(tag byte) string {
	switch tag {
	case 'S':
		return "longstr"
	case 'I':
		return "signedint"
	case 'i':
		return "unsignedint"
	case 'l':
		return "long"
	case 'b':
		return "byte"
	case 'B':
		return "unsignedbyte"
	case 's':
		return "short"
	case 'u':
		return "unsignedshort"
	case 't':
		return "bool"
	case 'f':
		return "float"
	case 'd':
		return "double"
	case 'D':
		return "decimal"
	case 'T':
		return "timestamp"
	case 'F':
		return "table"
	case 'x':
		return "binary"
	case 'V':
		return "void"
	}
	return "array"
}

// routeSenderSelected appends the queues the CC and BCC keys reach on x
// to dst, which holds what the routing key reached, and drops duplicates:
// a queue gets one copy however many keys lead to it.
func (v *VHost) routeSenderSelected(x *Exchange, m *Message, k *senderKeys, dst []*Queue) []*Queue {
	route := func(key []byte) { dst = v.routeOne(x, key, m, dst) }
	if k.cc.Tag == 'A' {
		frame.ArrayStrings(k.cc.Value, route)
	}
	if k.bcc.Tag == 'A' {
		frame.ArrayStrings(k.bcc.Value, route)
	}
	return dedupeQueues(dst)
}

// dedupeQueues removes repeated queues from qs, keeping the first of each.
func dedupeQueues(qs []*Queue) []*Queue {
	if len(qs) < 2 {
		return qs
	}
	if len(qs) <= 32 {
		out := qs[:1]
		for _, q := range qs[1:] {
			if !slices.Contains(out, q) {
				out = append(out, q)
			}
		}
		return out
	}
	seen := make(map[*Queue]struct{}, len(qs))
	out := qs[:0]
	for _, q := range qs {
		if _, dup := seen[q]; !dup {
			seen[q] = struct{}{}
			out = append(out, q)
		}
	}
	return out
}
