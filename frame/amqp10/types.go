// Package amqp10 is the small part of AMQP 1.0 that streams need: the
// message format (sections, the type system) that RabbitMQ's stream
// protocol carries, and its conversion to and from AMQP 0-9-1 properties
// and body, so one stream reads the same over both protocols.
//
// Decoding reads from a byte slice and never panics: malformed input gives
// an error. Binary and string values of a decoded Message are views into
// the input (Data sections especially); the caller keeps the input alive.
package amqp10

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// Type codes of the AMQP 1.0 type system (spec part 1.6).
const (
	codeDescribed  = 0x00
	codeNull       = 0x40
	codeTrue       = 0x41
	codeFalse      = 0x42
	codeUint0      = 0x43
	codeUlong0     = 0x44
	codeList0      = 0x45
	codeUbyte      = 0x50
	codeByte       = 0x51
	codeSmallUint  = 0x52
	codeSmallUlong = 0x53
	codeSmallInt   = 0x54
	codeSmallLong  = 0x55
	codeBool       = 0x56
	codeUshort     = 0x60
	codeShort      = 0x61
	codeUint       = 0x70
	codeInt        = 0x71
	codeFloat      = 0x72
	codeChar       = 0x73
	codeDecimal32  = 0x74
	codeUlong      = 0x80
	codeLong       = 0x81
	codeDouble     = 0x82
	codeTimestamp  = 0x83
	codeDecimal64  = 0x84
	codeDecimal128 = 0x94
	codeUUID       = 0x98
	codeVbin8      = 0xa0
	codeStr8       = 0xa1
	codeSym8       = 0xa3
	codeVbin32     = 0xb0
	codeStr32      = 0xb1
	codeSym32      = 0xb3
	codeList8      = 0xc0
	codeMap8       = 0xc1
	codeList32     = 0xd0
	codeMap32      = 0xd1
	codeArray8     = 0xe0
	codeArray32    = 0xf0
)

// Section descriptors (spec part 3.2).
const (
	DescHeader                 = 0x70
	DescDeliveryAnnotations    = 0x71
	DescMessageAnnotations     = 0x72
	DescProperties             = 0x73
	DescApplicationProperties  = 0x74
	DescData                   = 0x75
	DescAmqpSequence           = 0x76
	DescAmqpValue              = 0x77
	DescFooter                 = 0x78
	maxDepth                   = 32
	maxElements                = 1 << 24
	timestampUnit              = time.Millisecond
	decimal64Bias              = 398
	decimal64CoefficientBits   = 53
	decimal64ExponentBits      = 10
	decimal64CombinationMarker = 3
)

// Symbol is an AMQP symbol (an ASCII name, as message annotation keys are).
type Symbol string

// UUID is an AMQP uuid.
type UUID [16]byte

func (u UUID) String() string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// Char is an AMQP char (a UTF-32 code point).
type Char rune

// Decimal is a decimal value: Coefficient * 10^Exponent (decimal32/64 as
// BID; decimal128 is kept raw in Raw with Exponent and Coefficient zero).
type Decimal struct {
	Coefficient int64
	Exponent    int32
	Raw         []byte
}

// Described is a described value with a descriptor other than the
// sections' (kept as decoded).
type Described struct {
	Descriptor any
	Value      any
}

// KV is one map entry; maps keep their order.
type KV struct {
	Key   any
	Value any
}

// ErrMalformed is the error (wrapped) for any input that is not a valid
// AMQP 1.0 encoding.
var ErrMalformed = errors.New("amqp10: malformed")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// decoder reads values from b; every read is bounds-checked.
type decoder struct {
	b     []byte
	depth int
}

func (d *decoder) need(n int) ([]byte, error) {
	if n < 0 || len(d.b) < n {
		return nil, malformed("need %d bytes, have %d", n, len(d.b))
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p, nil
}

func (d *decoder) u8() (byte, error) {
	p, err := d.need(1)
	if err != nil {
		return 0, err
	}
	return p[0], nil
}

func (d *decoder) u32() (uint32, error) {
	p, err := d.need(4)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(p), nil
}

// value decodes one value of any type.
func (d *decoder) value() (any, error) {
	c, err := d.u8()
	if err != nil {
		return nil, err
	}
	return d.valueOf(c)
}

func (d *decoder) valueOf(c byte) (any, error) {
	switch c {
	case codeDescribed:
		d.depth++
		defer func() { d.depth-- }()
		if d.depth > maxDepth {
			return nil, malformed("nesting deeper than %d", maxDepth)
		}
		desc, err := d.value()
		if err != nil {
			return nil, err
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		return Described{Descriptor: desc, Value: v}, nil
	case codeNull:
		return nil, nil
	case codeTrue:
		return true, nil
	case codeFalse:
		return false, nil
	case codeUint0:
		return uint32(0), nil
	case codeUlong0:
		return uint64(0), nil
	case codeList0:
		return []any(nil), nil
	case codeUbyte:
		return d.u8()
	case codeByte:
		v, err := d.u8()
		return int8(v), err
	case codeSmallUint:
		v, err := d.u8()
		return uint32(v), err
	case codeSmallUlong:
		v, err := d.u8()
		return uint64(v), err
	case codeSmallInt:
		v, err := d.u8()
		return int32(int8(v)), err
	case codeSmallLong:
		v, err := d.u8()
		return int64(int8(v)), err
	case codeBool:
		v, err := d.u8()
		return v != 0, err
	case codeUshort, codeShort:
		p, err := d.need(2)
		if err != nil {
			return nil, err
		}
		v := binary.BigEndian.Uint16(p)
		if c == codeShort {
			return int16(v), nil
		}
		return v, nil
	case codeUint, codeInt, codeFloat, codeChar, codeDecimal32:
		v, err := d.u32()
		if err != nil {
			return nil, err
		}
		switch c {
		case codeInt:
			return int32(v), nil
		case codeFloat:
			return math.Float32frombits(v), nil
		case codeChar:
			return Char(v), nil
		case codeDecimal32:
			return decodeDecimal32(v), nil
		}
		return v, nil
	case codeUlong, codeLong, codeDouble, codeTimestamp, codeDecimal64:
		p, err := d.need(8)
		if err != nil {
			return nil, err
		}
		v := binary.BigEndian.Uint64(p)
		switch c {
		case codeLong:
			return int64(v), nil
		case codeDouble:
			return math.Float64frombits(v), nil
		case codeTimestamp:
			return time.UnixMilli(int64(v)).UTC(), nil
		case codeDecimal64:
			return decodeDecimal64(v), nil
		}
		return v, nil
	case codeDecimal128:
		p, err := d.need(16)
		return Decimal{Raw: p}, err
	case codeUUID:
		p, err := d.need(16)
		if err != nil {
			return nil, err
		}
		var u UUID
		copy(u[:], p)
		return u, nil
	case codeVbin8, codeStr8, codeSym8, codeVbin32, codeStr32, codeSym32:
		var n int
		if c&0xf0 == 0xa0 {
			v, err := d.u8()
			if err != nil {
				return nil, err
			}
			n = int(v)
		} else {
			v, err := d.u32()
			if err != nil {
				return nil, err
			}
			if v > math.MaxInt32 {
				return nil, malformed("length %d", v)
			}
			n = int(v)
		}
		p, err := d.need(n)
		if err != nil {
			return nil, err
		}
		switch c {
		case codeStr8, codeStr32:
			return string(p), nil
		case codeSym8, codeSym32:
			return Symbol(p), nil
		}
		return p, nil
	case codeList8, codeList32, codeMap8, codeMap32:
		body, count, err := d.compound(c == codeList8 || c == codeMap8)
		if err != nil {
			return nil, err
		}
		sub := decoder{b: body, depth: d.depth + 1}
		if sub.depth > maxDepth {
			return nil, malformed("nesting deeper than %d", maxDepth)
		}
		if c == codeMap8 || c == codeMap32 {
			if count%2 != 0 {
				return nil, malformed("map with odd count %d", count)
			}
			m := make([]KV, 0, min(count/2, len(body)/2))
			for range count / 2 {
				k, err := sub.value()
				if err != nil {
					return nil, err
				}
				v, err := sub.value()
				if err != nil {
					return nil, err
				}
				m = append(m, KV{k, v})
			}
			return m, nil
		}
		l := make([]any, 0, min(count, len(body)))
		for range count {
			v, err := sub.value()
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case codeArray8, codeArray32:
		body, count, err := d.compound(c == codeArray8)
		if err != nil {
			return nil, err
		}
		sub := decoder{b: body, depth: d.depth + 1}
		if sub.depth > maxDepth {
			return nil, malformed("nesting deeper than %d", maxDepth)
		}
		if count == 0 {
			return []any{}, nil
		}
		ctor, err := sub.u8()
		if err != nil {
			return nil, err
		}
		var desc any
		if ctor == codeDescribed {
			if desc, err = sub.value(); err != nil {
				return nil, err
			}
			if ctor, err = sub.u8(); err != nil {
				return nil, err
			}
		}
		if ctor == codeDescribed {
			return nil, malformed("array of described constructor")
		}
		l := make([]any, 0, min(count, len(body)))
		for range count {
			v, err := sub.valueOf(ctor)
			if err != nil {
				return nil, err
			}
			if desc != nil {
				v = Described{Descriptor: desc, Value: v}
			}
			l = append(l, v)
		}
		return l, nil
	}
	return nil, malformed("unknown type code 0x%02x", c)
}

// compound reads the size and count of a list, map or array and returns
// its body (after the count).
func (d *decoder) compound(small bool) ([]byte, int, error) {
	var size, count int
	if small {
		s, err := d.u8()
		if err != nil {
			return nil, 0, err
		}
		if s < 1 {
			return nil, 0, malformed("compound size %d", s)
		}
		c, err := d.u8()
		if err != nil {
			return nil, 0, err
		}
		size, count = int(s)-1, int(c)
	} else {
		s, err := d.u32()
		if err != nil {
			return nil, 0, err
		}
		if s < 4 || s > math.MaxInt32 {
			return nil, 0, malformed("compound size %d", s)
		}
		c, err := d.u32()
		if err != nil {
			return nil, 0, err
		}
		if c > maxElements {
			return nil, 0, malformed("compound count %d", c)
		}
		size, count = int(s)-4, int(c)
	}
	body, err := d.need(size)
	return body, count, err
}

func decodeDecimal64(v uint64) any {
	sign := v >> 63
	if (v>>61)&3 == decimal64CombinationMarker {
		return Decimal{Raw: binary.BigEndian.AppendUint64(nil, v)}
	}
	exp := int32((v >> decimal64CoefficientBits) & (1<<decimal64ExponentBits - 1))
	coef := int64(v & (1<<decimal64CoefficientBits - 1))
	if sign == 1 {
		coef = -coef
	}
	return Decimal{Coefficient: coef, Exponent: exp - decimal64Bias}
}

func decodeDecimal32(v uint32) any {
	sign := v >> 31
	if (v>>29)&3 == decimal64CombinationMarker {
		return Decimal{Raw: binary.BigEndian.AppendUint32(nil, v)}
	}
	exp := int32((v >> 23) & 0xff)
	coef := int64(v & (1<<23 - 1))
	if sign == 1 {
		coef = -coef
	}
	return Decimal{Coefficient: coef, Exponent: exp - 101}
}

// ---- encoding ----

// AppendNull appends null.
func AppendNull(b []byte) []byte { return append(b, codeNull) }

// AppendBool appends a boolean.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, codeTrue)
	}
	return append(b, codeFalse)
}

// AppendUlong appends an unsigned long in its smallest encoding.
func AppendUlong(b []byte, v uint64) []byte {
	switch {
	case v == 0:
		return append(b, codeUlong0)
	case v < 256:
		return append(b, codeSmallUlong, byte(v))
	}
	return binary.BigEndian.AppendUint64(append(b, codeUlong), v)
}

// AppendUint appends an unsigned int in its smallest encoding.
func AppendUint(b []byte, v uint32) []byte {
	switch {
	case v == 0:
		return append(b, codeUint0)
	case v < 256:
		return append(b, codeSmallUint, byte(v))
	}
	return binary.BigEndian.AppendUint32(append(b, codeUint), v)
}

// AppendLong appends a signed long in its smallest encoding.
func AppendLong(b []byte, v int64) []byte {
	if v >= -128 && v <= 127 {
		return append(b, codeSmallLong, byte(int8(v)))
	}
	return binary.BigEndian.AppendUint64(append(b, codeLong), uint64(v))
}

// AppendInt appends a signed int in its smallest encoding.
func AppendInt(b []byte, v int32) []byte {
	if v >= -128 && v <= 127 {
		return append(b, codeSmallInt, byte(int8(v)))
	}
	return binary.BigEndian.AppendUint32(append(b, codeInt), uint32(v))
}

func appendVar(b []byte, small, large byte, p []byte) []byte {
	if len(p) < 256 {
		b = append(b, small, byte(len(p)))
	} else {
		b = binary.BigEndian.AppendUint32(append(b, large), uint32(len(p)))
	}
	return append(b, p...)
}

// AppendString appends a UTF-8 string.
func AppendString(b []byte, s string) []byte {
	if len(s) < 256 {
		b = append(b, codeStr8, byte(len(s)))
	} else {
		b = binary.BigEndian.AppendUint32(append(b, codeStr32), uint32(len(s)))
	}
	return append(b, s...)
}

// AppendSymbol appends a symbol.
func AppendSymbol(b []byte, s string) []byte {
	if len(s) < 256 {
		b = append(b, codeSym8, byte(len(s)))
	} else {
		b = binary.BigEndian.AppendUint32(append(b, codeSym32), uint32(len(s)))
	}
	return append(b, s...)
}

// AppendBinary appends a binary.
func AppendBinary(b []byte, p []byte) []byte { return appendVar(b, codeVbin8, codeVbin32, p) }

// AppendTimestamp appends a timestamp (milliseconds since the epoch).
func AppendTimestamp(b []byte, ms int64) []byte {
	return binary.BigEndian.AppendUint64(append(b, codeTimestamp), uint64(ms))
}

// AppendDescriptor appends the constructor of a described value with a
// small ulong descriptor (the sections' form).
func AppendDescriptor(b []byte, code byte) []byte {
	return append(b, codeDescribed, codeSmallUlong, code)
}

// beginCompound starts a list32/map32 and returns where its size goes.
func beginCompound(b []byte, code byte) ([]byte, int) {
	at := len(b)
	return append(b, code, 0, 0, 0, 0, 0, 0, 0, 0), at
}

// endCompound patches the size and count of the compound started at at.
func endCompound(b []byte, at int, count int) []byte {
	binary.BigEndian.PutUint32(b[at+1:], uint32(len(b)-at-5))
	binary.BigEndian.PutUint32(b[at+5:], uint32(count))
	return b
}

// AppendValue appends a Go value with the type the decoder gives back:
// nil, bool, uint8/16/32/64, int8/16/32/64, int, float32/64, string,
// Symbol, []byte, time.Time, UUID, Char, Decimal (coefficient/exponent
// as decimal64), []any (list), []KV and map[string]any (maps).
func AppendValue(b []byte, v any) ([]byte, error) { return appendValue(b, v, 0) }

func appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return b, fmt.Errorf("amqp10: nesting deeper than %d", maxDepth)
	}
	var err error
	switch v := v.(type) {
	case nil:
		return append(b, codeNull), nil
	case bool:
		return AppendBool(b, v), nil
	case uint8:
		return append(b, codeUbyte, v), nil
	case uint16:
		return binary.BigEndian.AppendUint16(append(b, codeUshort), v), nil
	case uint32:
		return AppendUint(b, v), nil
	case uint64:
		return AppendUlong(b, v), nil
	case int8:
		return append(b, codeByte, byte(v)), nil
	case int16:
		return binary.BigEndian.AppendUint16(append(b, codeShort), uint16(v)), nil
	case int32:
		return AppendInt(b, v), nil
	case int64:
		return AppendLong(b, v), nil
	case int:
		return AppendLong(b, int64(v)), nil
	case float32:
		return binary.BigEndian.AppendUint32(append(b, codeFloat), math.Float32bits(v)), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(b, codeDouble), math.Float64bits(v)), nil
	case string:
		return AppendString(b, v), nil
	case Symbol:
		return AppendSymbol(b, string(v)), nil
	case []byte:
		return AppendBinary(b, v), nil
	case time.Time:
		return AppendTimestamp(b, v.UnixMilli()), nil
	case UUID:
		return append(append(b, codeUUID), v[:]...), nil
	case Char:
		return binary.BigEndian.AppendUint32(append(b, codeChar), uint32(v)), nil
	case Decimal:
		if v.Raw != nil {
			switch len(v.Raw) {
			case 4:
				return append(append(b, codeDecimal32), v.Raw...), nil
			case 8:
				return append(append(b, codeDecimal64), v.Raw...), nil
			case 16:
				return append(append(b, codeDecimal128), v.Raw...), nil
			}
			return b, fmt.Errorf("amqp10: decimal of %d bytes", len(v.Raw))
		}
		coef, sign := v.Coefficient, uint64(0)
		if coef < 0 {
			coef, sign = -coef, 1
		}
		exp := int64(v.Exponent) + decimal64Bias
		if coef >= 1<<decimal64CoefficientBits || exp < 0 || exp >= 1<<decimal64ExponentBits {
			return b, fmt.Errorf("amqp10: decimal out of decimal64 range")
		}
		bits := sign<<63 | uint64(exp)<<decimal64CoefficientBits | uint64(coef)
		return binary.BigEndian.AppendUint64(append(b, codeDecimal64), bits), nil
	case Described:
		b = append(b, codeDescribed)
		if b, err = appendValue(b, v.Descriptor, depth+1); err != nil {
			return b, err
		}
		return appendValue(b, v.Value, depth+1)
	case []any:
		b, at := beginCompound(b, codeList32)
		for _, e := range v {
			if b, err = appendValue(b, e, depth+1); err != nil {
				return b, err
			}
		}
		return endCompound(b, at, len(v)), nil
	case []KV:
		b, at := beginCompound(b, codeMap32)
		for _, e := range v {
			if b, err = appendValue(b, e.Key, depth+1); err != nil {
				return b, err
			}
			if b, err = appendValue(b, e.Value, depth+1); err != nil {
				return b, err
			}
		}
		return endCompound(b, at, 2*len(v)), nil
	case map[string]any:
		b, at := beginCompound(b, codeMap32)
		for _, k := range sortedKeys(v) {
			b = AppendString(b, k)
			if b, err = appendValue(b, v[k], depth+1); err != nil {
				return b, err
			}
		}
		return endCompound(b, at, 2*len(v)), nil
	}
	return b, fmt.Errorf("amqp10: cannot encode %T", v)
}
