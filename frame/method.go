package frame

import "encoding/binary"

//go:generate go run ./internal/gen/main.go -spec amqp0-9-1.stripped.extended.xml -out methods_gen.go

// Method is one AMQP method: the generated structs in methods_gen.go, one
// per method of the spec, RabbitMQ's extensions included.
//
// Decode copies strings and tables out of args, so a decoded method may be
// kept after the buffer is reused. It returns an *Error with code 501 for
// arguments that end early, carry trailing bytes or hold a bad table, and
// for a shortstr that is not UTF-8 in a method without content.
//
// AppendArgs cannot fail, so it never writes a malformed frame: a shortstr
// longer than 255 bytes is cut to 255 and a table AppendTable rejects is
// sent empty. Validate reports both before sending, for values that come
// from users rather than from this program.
type Method interface {
	ID() uint32
	Name() string
	HasContent() bool
	Decode(args []byte) error
	AppendArgs(dst []byte) []byte
	Validate() error
}

// MethodID reads the class and method ids at the start of a method frame's
// payload, as one id comparable to the ID<Name> constants. A payload too
// short to hold them is a frame error, as it is to RabbitMQ.
func MethodID(payload []byte) (uint32, error) {
	if len(payload) < 4 {
		return 0, Errorf(FrameError, "method frame payload is %d bytes, too short for class and method ids", len(payload))
	}
	return binary.BigEndian.Uint32(payload), nil
}

// DecodeMethod decodes a method frame's payload into a new method. It
// allocates; the hot methods have view decoders (DecodePublishView) or are
// decoded into a reused struct with Decode.
func DecodeMethod(payload []byte) (Method, error) {
	id, err := MethodID(payload)
	if err != nil {
		return nil, err
	}
	m, err := NewMethod(id)
	if err != nil {
		return nil, err
	}
	if err := m.Decode(payload[4:]); err != nil {
		return nil, err
	}
	return m, nil
}
