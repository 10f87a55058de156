package router

// Kind is an exchange type: the four AMQP 0-9-1 built-in kinds and the
// consistent-hash exchange (hash.go). Other plugin kinds are not
// supported, so ParseKind reports false for them and the broker answers 503
// as RabbitMQ does for an unknown type.
type Kind uint8

const (
	KindDirect Kind = iota + 1
	KindFanout
	KindTopic
	KindHeaders
	KindConsistentHash
)

// ParseKind maps the exchange.declare type string to a Kind.
func ParseKind(s string) (Kind, bool) {
	switch s {
	case "direct":
		return KindDirect, true
	case "fanout":
		return KindFanout, true
	case "topic":
		return KindTopic, true
	case "headers":
		return KindHeaders, true
	case "x-consistent-hash":
		return KindConsistentHash, true
	}
	return 0, false
}

// String returns the AMQP name of the kind, as the management API shows it.
func (k Kind) String() string {
	switch k {
	case KindDirect:
		return "direct"
	case KindFanout:
		return "fanout"
	case KindTopic:
		return "topic"
	case KindHeaders:
		return "headers"
	case KindConsistentHash:
		return "x-consistent-hash"
	}
	return "unknown"
}
