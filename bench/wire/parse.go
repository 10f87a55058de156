package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Frame is one parsed frame. Payload is a view into the parsed buffer and is
// valid only until that buffer is reused.
type Frame struct {
	Type    uint8
	Channel uint16
	Payload []byte
}

// ErrFrameEnd reports a frame whose last octet is not 0xCE.
var ErrFrameEnd = errors.New("wire: bad frame-end octet")

// ErrShort reports method arguments that end early.
var ErrShort = errors.New("wire: truncated method arguments")

// ParseFrame parses one frame at the start of b without copying. n == 0 and
// err == nil means b does not yet hold a whole frame. A frame whose payload
// exceeds maxPayload (0 = no limit) is an error.
func ParseFrame(b []byte, maxPayload int) (f Frame, n int, err error) {
	if len(b) < HeaderSize {
		return Frame{}, 0, nil
	}
	size := int(binary.BigEndian.Uint32(b[3:7]))
	if maxPayload > 0 && size > maxPayload {
		return Frame{}, 0, fmt.Errorf("wire: frame payload %d exceeds %d", size, maxPayload)
	}
	end := HeaderSize + size
	if len(b) <= end {
		return Frame{}, 0, nil
	}
	if b[end] != FrameEnd {
		return Frame{}, 0, ErrFrameEnd
	}
	f = Frame{Type: b[0], Channel: binary.BigEndian.Uint16(b[1:3]), Payload: b[HeaderSize:end:end]}
	return f, end + 1, nil
}

// Method splits a method frame payload into its id and its arguments.
func Method(payload []byte) (id uint32, args []byte, err error) {
	if len(payload) < 4 {
		return 0, nil, ErrShort
	}
	return binary.BigEndian.Uint32(payload), payload[4:], nil
}

// Args reads method arguments in order. The first error sticks; later reads
// return zero values. Strings are views into the arguments.
type Args struct {
	b   []byte
	err error
}

// NewArgs reads from b.
func NewArgs(b []byte) Args { return Args{b: b} }

// Err is the first error met.
func (a *Args) Err() error { return a.err }

func (a *Args) take(n int) []byte {
	if a.err != nil || n > len(a.b) || n < 0 {
		a.err = ErrShort
		return nil
	}
	v := a.b[:n]
	a.b = a.b[n:]
	return v
}

// Octet reads one octet (also a packed bit octet).
func (a *Args) Octet() uint8 {
	if v := a.take(1); v != nil {
		return v[0]
	}
	return 0
}

// Short reads a uint16.
func (a *Args) Short() uint16 {
	if v := a.take(2); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

// Long reads a uint32.
func (a *Args) Long() uint32 {
	if v := a.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

// Longlong reads a uint64.
func (a *Args) Longlong() uint64 {
	if v := a.take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// Shortstr reads a short string as a view.
func (a *Args) Shortstr() []byte { return a.take(int(a.Octet())) }

// Longstr reads a long string (or a table, as raw bytes) as a view.
func (a *Args) Longstr() []byte {
	n := a.Long()
	if a.err == nil && uint64(n) > uint64(len(a.b)) {
		a.err = ErrShort
		return nil
	}
	return a.take(int(n))
}

// Deliver is the part of basic.deliver the load tool uses.
type Deliver struct {
	Tag         uint64
	Redelivered bool
}

// ParseDeliver reads basic.deliver arguments, skipping consumer tag,
// exchange and routing key without copying.
func ParseDeliver(args []byte) (Deliver, error) {
	// Fast path: consumer-tag shortstr then delivery-tag and the bit octet.
	if len(args) < 1 {
		return Deliver{}, ErrShort
	}
	o := 1 + int(args[0])
	if len(args) < o+9 {
		return Deliver{}, ErrShort
	}
	return Deliver{Tag: binary.BigEndian.Uint64(args[o:]), Redelivered: args[o+8]&1 != 0}, nil
}

// ParseAck reads basic.ack or basic.nack arguments (tag and multiple bit).
func ParseAck(args []byte) (tag uint64, multiple bool, err error) {
	if len(args) < 9 {
		return 0, false, ErrShort
	}
	return binary.BigEndian.Uint64(args), args[8]&1 != 0, nil
}

// ParseContentHeader reads a content header payload's class and body size.
func ParseContentHeader(payload []byte) (class uint16, bodySize uint64, err error) {
	if len(payload) < 14 {
		return 0, 0, ErrShort
	}
	return binary.BigEndian.Uint16(payload), binary.BigEndian.Uint64(payload[4:]), nil
}

// CloseError is a connection.close or channel.close received from the peer.
type CloseError struct {
	Channel         uint16
	Code            uint16
	Text            string
	ClassID, Method uint16
}

func (e *CloseError) Error() string {
	what := "connection"
	if e.Channel != 0 {
		what = fmt.Sprintf("channel %d", e.Channel)
	}
	return fmt.Sprintf("%s closed by broker: %d %s (method %d.%d)", what, e.Code, e.Text, e.ClassID, e.Method)
}

// ParseClose reads connection.close or channel.close arguments (copying text).
func ParseClose(ch uint16, args []byte) *CloseError {
	a := NewArgs(args)
	e := &CloseError{Channel: ch, Code: a.Short(), Text: string(a.Shortstr()), ClassID: a.Short(), Method: a.Short()}
	if a.Err() != nil {
		e.Text = "malformed close"
	}
	return e
}

// Tune is the server's connection.tune.
type Tune struct {
	ChannelMax uint16
	FrameMax   uint32
	Heartbeat  uint16
}

// ParseTune reads connection.tune arguments.
func ParseTune(args []byte) (Tune, error) {
	a := NewArgs(args)
	t := Tune{ChannelMax: a.Short(), FrameMax: a.Long(), Heartbeat: a.Short()}
	return t, a.Err()
}

// ParseStart reads connection.start and returns its mechanisms list.
func ParseStart(args []byte) (major, minor uint8, mechanisms string, err error) {
	a := NewArgs(args)
	major, minor = a.Octet(), a.Octet()
	a.Longstr() // server-properties table
	mechanisms = string(a.Longstr())
	a.Longstr() // locales
	return major, minor, mechanisms, a.Err()
}
