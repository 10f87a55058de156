package frame

import (
	"encoding/binary"
	"math"
	"unicode/utf8"
)

// maxShortstr is the longest string a shortstr's one-octet length can carry.
const maxShortstr = 255

// malformedCode is the reply code for method arguments, properties and
// tables that do not parse: FRAME_ERROR, as RabbitMQ 3.x answers
// undecodable method arguments ("FRAME_ERROR - cannot decode ...").
const malformedCode = FrameError

// malformedUTF8 is RabbitMQ's text for a method's shortstr argument that is
// not UTF-8. Names are kept as Go strings and stored as text; accepting
// arbitrary bytes would let two names differ on the wire and collapse into
// one (U+FFFD) once persisted.
const malformedUTF8 = "Malformed UTF-8 in shortstr"

// reader decodes primitive fields from a method's argument bytes. A read
// past the end moves off beyond len(b), which fails every later read and
// makes end report the method as short; callers check once, at the end,
// instead of after every field.
type reader struct {
	b   []byte
	off int
	err *Error // a nested table's own error, kept for its more precise text
	// badUTF8 is set by name when a shortstr is not UTF-8; it is reported
	// only if the arguments are otherwise well formed, as RabbitMQ checks
	// the encoding after matching the layout.
	badUTF8 bool
}

func (r *reader) fail() { r.off = len(r.b) + 1 }

func (r *reader) octet() uint8 {
	if len(r.b)-r.off < 1 {
		r.fail()
		return 0
	}
	v := r.b[r.off]
	r.off++
	return v
}

func (r *reader) short() uint16 {
	if len(r.b)-r.off < 2 {
		r.fail()
		return 0
	}
	v := binary.BigEndian.Uint16(r.b[r.off:])
	r.off += 2
	return v
}

func (r *reader) long() uint32 {
	if len(r.b)-r.off < 4 {
		r.fail()
		return 0
	}
	v := binary.BigEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *reader) longlong() uint64 {
	if len(r.b)-r.off < 8 {
		r.fail()
		return 0
	}
	v := binary.BigEndian.Uint64(r.b[r.off:])
	r.off += 8
	return v
}

// shortstrView returns the string's bytes as a view into r.b.
func (r *reader) shortstrView() []byte {
	if len(r.b)-r.off < 1 {
		r.fail()
		return nil
	}
	n := int(r.b[r.off])
	start := r.off + 1
	if len(r.b)-start < n {
		r.fail()
		return nil
	}
	r.off = start + n
	return r.b[start:r.off:r.off]
}

func (r *reader) shortstr() string { return string(r.shortstrView()) }

// name is shortstr for the arguments RabbitMQ requires to be UTF-8: every
// shortstr of a method without content (basic.publish, deliver, return and
// get-ok carry exchange and routing key bytes through unchecked).
func (r *reader) name() string {
	v := r.shortstrView()
	if !utf8.Valid(v) {
		r.badUTF8 = true
	}
	return string(v)
}

func (r *reader) longstr() string {
	if len(r.b)-r.off < 4 {
		r.fail()
		return ""
	}
	n := uint64(binary.BigEndian.Uint32(r.b[r.off:]))
	start := r.off + 4
	if uint64(len(r.b)-start) < n {
		r.fail()
		return ""
	}
	r.off = start + int(n)
	return string(r.b[start:r.off])
}

func (r *reader) table() Table {
	if r.off > len(r.b) {
		return nil
	}
	t, n, err := decodeTable(r.b[r.off:], 0)
	if err != nil {
		if r.err == nil {
			r.err = err
		}
		r.fail()
		return nil
	}
	r.off += n
	return t
}

// end reports whether the arguments of method id were consumed exactly.
// Trailing bytes are an error, as they are to RabbitMQ's binary matches.
// A name that is not UTF-8 gives RabbitMQ's error, which (unlike "cannot
// decode") names no method: RabbitMQ closes with class and method 0.
func (r *reader) end(id uint32) error {
	if r.off == len(r.b) {
		if r.badUTF8 {
			return &Error{Code: malformedCode, Text: malformedUTF8}
		}
		return nil
	}
	var e *Error
	switch {
	case r.err != nil:
		e = Errorf(malformedCode, "cannot decode %s: %s", MethodName(id), r.err.Text)
	case r.off > len(r.b):
		e = Errorf(malformedCode, "cannot decode %s: arguments end early (%d bytes)", MethodName(id), len(r.b))
	default:
		e = Errorf(malformedCode, "cannot decode %s: %d unexpected bytes after the arguments", MethodName(id), len(r.b)-r.off)
	}
	e.ClassID, e.MethodID = uint16(id>>16), uint16(id)
	return e
}

func appendOctet(dst []byte, v uint8) []byte { return append(dst, v) }

func appendShort(dst []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(dst, v) }

func appendLong(dst []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(dst, v) }

func appendLonglong(dst []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(dst, v) }

// appendShortstr truncates s to 255 bytes: an encoder that cannot return an
// error must still never emit a length octet that disagrees with the bytes
// after it, or the peer would misparse the rest of the frame. Validate
// reports the overflow to callers that care.
func appendShortstr(dst []byte, s string) []byte {
	if len(s) > maxShortstr {
		s = s[:maxShortstr]
	}
	dst = append(dst, uint8(len(s)))
	return append(dst, s...)
}

// appendShortbytes is appendShortstr for a view.
func appendShortbytes(dst []byte, s []byte) []byte {
	if len(s) > maxShortstr {
		s = s[:maxShortstr]
	}
	dst = append(dst, uint8(len(s)))
	return append(dst, s...)
}

// appendLongstr truncates, like appendShortstr, at the 4 GiB a long length
// can express.
func appendLongstr(dst []byte, s string) []byte {
	if uint64(len(s)) > math.MaxUint32 {
		s = s[:math.MaxUint32]
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

// appendTableArg encodes a method's table argument. A table AppendTable
// rejects goes out empty rather than half-written; Validate reports it.
func appendTableArg(dst []byte, t Table) []byte {
	out, err := AppendTable(dst, t)
	if err != nil {
		return append(dst, 0, 0, 0, 0)
	}
	return out
}

func bit(v bool, n uint) uint8 {
	if v {
		return 1 << n
	}
	return 0
}

func shortstrTooLong(id uint32, field string, n int) error {
	e := Errorf(malformedCode, "%s %s is %d bytes, a shortstr holds at most 255", MethodName(id), field, n)
	e.ClassID, e.MethodID = uint16(id>>16), uint16(id)
	return e
}

func validateTableArg(id uint32, field string, t Table) error {
	if err := checkTable(t, 0); err != nil {
		e := Errorf(malformedCode, "%s %s: %s", MethodName(id), field, err.Text)
		e.ClassID, e.MethodID = uint16(id>>16), uint16(id)
		return e
	}
	return nil
}
