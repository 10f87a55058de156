package frame

import (
	"encoding/binary"
	"math"
	"slices"
	"time"
)

// Table is an AMQP field table. Values have these Go types, one per
// RabbitMQ field type tag (RabbitMQ's set, not the 0-9-1 spec's, per the
// RabbitMQ errata):
//
//	t bool      b int8     B uint8    s int16      u uint16   I int32
//	i uint32    l int64    f float32  d float64    D Decimal  S string
//	x []byte    A []any    T time.Time (UTC, whole seconds)
//	F Table     V nil
type Table map[string]any

// Decimal is a field table decimal: Value / 10^Scale.
type Decimal struct {
	Scale uint8
	Value int32
}

// maxTableDepth bounds how deeply tables and arrays may nest, so a hostile
// peer cannot recurse us off the stack; 64 is far beyond any real header.
const maxTableDepth = 64

// DecodeTable decodes the field table that starts at b[0] with its 4-byte
// size and returns it with the number of bytes consumed. Strings and byte
// arrays are copied, so the table outlives b. An empty table decodes as nil.
// Malformed input (sizes past the end, unknown type tags, nesting deeper
// than 64) gives *Error 501.
func DecodeTable(b []byte) (Table, int, error) {
	t, n, err := decodeTable(b, 0)
	if err != nil {
		return nil, 0, err
	}
	return t, n, nil
}

// AppendTable appends t with its 4-byte size prefix. Keys are written in
// sorted order, so equal tables encode to equal bytes. Besides the types
// Table lists it accepts int (as I when it fits in 32 bits, else l, so
// values are never truncated) and map[string]any (as F). On error (an
// unsupported value type, a key longer than 255 bytes, nesting deeper than
// 64) it returns dst unchanged and an *Error 501.
func AppendTable(dst []byte, t Table) ([]byte, error) {
	out, err := appendTable(dst, t, 0)
	if err != nil {
		return dst, err
	}
	return out, nil
}

func tableErr(format string, args ...any) *Error {
	return Errorf(malformedCode, "field table: "+format, args...)
}

// tableBody checks the 4-byte size prefix and returns the bytes it covers.
func tableBody(b []byte, depth int, what string) ([]byte, *Error) {
	if depth >= maxTableDepth {
		return nil, tableErr("nested deeper than %d", maxTableDepth)
	}
	if len(b) < 4 {
		return nil, tableErr("%s size needs 4 bytes, %d left", what, len(b))
	}
	size := uint64(binary.BigEndian.Uint32(b))
	if size > uint64(len(b)-4) {
		return nil, tableErr("%s size %d exceeds the %d bytes left", what, size, len(b)-4)
	}
	return b[4 : 4+int(size)], nil
}

// tableKey reads a field name, returning the bytes after it.
func tableKey(b []byte) (key, rest []byte, err *Error) {
	n := int(b[0])
	if len(b)-1 < n {
		return nil, nil, tableErr("field name of %d bytes exceeds the %d bytes left", n, len(b)-1)
	}
	return b[1 : 1+n], b[1+n:], nil
}

// ScalarSize is the value size of a fixed-width field type tag, or -1.
func ScalarSize(tag byte) int {
	switch tag {
	case 'V':
		return 0
	case 't', 'b', 'B':
		return 1
	case 's', 'u':
		return 2
	case 'I', 'i', 'f':
		return 4
	case 'D':
		return 5
	case 'l', 'd', 'T':
		return 8
	}
	return -1
}

func decodeTable(b []byte, depth int) (Table, int, *Error) {
	body, err := tableBody(b, depth, "table")
	if err != nil {
		return nil, 0, err
	}
	n := 4 + len(body)
	if len(body) == 0 {
		return nil, n, nil
	}
	t := make(Table)
	for len(body) > 0 {
		key, rest, err := tableKey(body)
		if err != nil {
			return nil, 0, err
		}
		v, vn, err := decodeValue(rest, depth)
		if err != nil {
			return nil, 0, err
		}
		t[string(key)] = v
		body = rest[vn:]
	}
	return t, n, nil
}

func decodeArray(b []byte, depth int) ([]any, int, *Error) {
	body, err := tableBody(b, depth, "array")
	if err != nil {
		return nil, 0, err
	}
	n := 4 + len(body)
	a := []any{}
	for len(body) > 0 {
		v, vn, err := decodeValue(body, depth)
		if err != nil {
			return nil, 0, err
		}
		a = append(a, v)
		body = body[vn:]
	}
	return a, n, nil
}

// decodeValue decodes one tagged value and returns it with the bytes used,
// tag included. depth is that of the table or array holding the value.
func decodeValue(b []byte, depth int) (any, int, *Error) {
	if len(b) < 1 {
		return nil, 0, tableErr("value type tag missing")
	}
	tag, v := b[0], b[1:]
	if n := ScalarSize(tag); n >= 0 {
		if len(v) < n {
			return nil, 0, tableErr("value of type %q needs %d bytes, %d left", tag, n, len(v))
		}
		return decodeScalar(tag, v), 1 + n, nil
	}
	switch tag {
	case 'S', 'x':
		s, err := longBytes(v, tag)
		if err != nil {
			return nil, 0, err
		}
		if tag == 'S' {
			return string(s), 5 + len(s), nil
		}
		return append([]byte{}, s...), 5 + len(s), nil
	case 'A':
		a, n, err := decodeArray(v, depth+1)
		return a, 1 + n, err
	case 'F':
		t, n, err := decodeTable(v, depth+1)
		return t, 1 + n, err
	}
	return nil, 0, tableErr("unknown value type %q", tag)
}

// decodeScalar decodes a fixed-width value; len(v) >= ScalarSize(tag).
func decodeScalar(tag byte, v []byte) any {
	switch tag {
	case 't':
		return v[0] != 0
	case 'b':
		return int8(v[0])
	case 'B':
		return v[0]
	case 's':
		return int16(binary.BigEndian.Uint16(v))
	case 'u':
		return binary.BigEndian.Uint16(v)
	case 'I':
		return int32(binary.BigEndian.Uint32(v))
	case 'i':
		return binary.BigEndian.Uint32(v)
	case 'f':
		return math.Float32frombits(binary.BigEndian.Uint32(v))
	case 'D':
		return Decimal{Scale: v[0], Value: int32(binary.BigEndian.Uint32(v[1:]))}
	case 'l':
		return int64(binary.BigEndian.Uint64(v))
	case 'd':
		return math.Float64frombits(binary.BigEndian.Uint64(v))
	case 'T':
		return time.Unix(int64(binary.BigEndian.Uint64(v)), 0).UTC()
	}
	return nil // 'V'
}

// longBytes reads a 4-byte length and the bytes it covers.
func longBytes(v []byte, tag byte) ([]byte, *Error) {
	if len(v) < 4 {
		return nil, tableErr("value of type %q needs a 4-byte length, %d bytes left", tag, len(v))
	}
	n := uint64(binary.BigEndian.Uint32(v))
	if n > uint64(len(v)-4) {
		return nil, tableErr("value of type %q is %d bytes, %d left", tag, n, len(v)-4)
	}
	return v[4 : 4+int(n)], nil
}

// skipTable checks the table at b as decodeTable would, without building
// it, and returns its size. It does not allocate on valid input.
func skipTable(b []byte, depth int) (int, *Error) {
	body, err := tableBody(b, depth, "table")
	if err != nil {
		return 0, err
	}
	n := 4 + len(body)
	for len(body) > 0 {
		_, rest, err := tableKey(body)
		if err != nil {
			return 0, err
		}
		vn, err := skipValue(rest, depth)
		if err != nil {
			return 0, err
		}
		body = rest[vn:]
	}
	return n, nil
}

func skipValue(b []byte, depth int) (int, *Error) {
	if len(b) < 1 {
		return 0, tableErr("value type tag missing")
	}
	tag, v := b[0], b[1:]
	if n := ScalarSize(tag); n >= 0 {
		if len(v) < n {
			return 0, tableErr("value of type %q needs %d bytes, %d left", tag, n, len(v))
		}
		return 1 + n, nil
	}
	switch tag {
	case 'S', 'x':
		s, err := longBytes(v, tag)
		return 5 + len(s), err
	case 'A':
		body, err := tableBody(v, depth+1, "array")
		if err != nil {
			return 0, err
		}
		n := 5 + len(body)
		for len(body) > 0 {
			vn, err := skipValue(body, depth+1)
			if err != nil {
				return 0, err
			}
			body = body[vn:]
		}
		return n, nil
	case 'F':
		n, err := skipTable(v, depth+1)
		return 1 + n, err
	}
	return 0, tableErr("unknown value type %q", tag)
}

func appendTable(dst []byte, t Table, depth int) ([]byte, *Error) {
	if depth >= maxTableDepth {
		return nil, tableErr("nested deeper than %d", maxTableDepth)
	}
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var err *Error
	for _, k := range keys {
		if len(k) > maxShortstr {
			return nil, tableErr("field name is %d bytes, at most 255 allowed", len(k))
		}
		dst = append(dst, uint8(len(k)))
		dst = append(dst, k...)
		if dst, err = appendValue(dst, t[k], depth); err != nil {
			return nil, err
		}
	}
	return patchSize(dst, start)
}

func appendArray(dst []byte, a []any, depth int) ([]byte, *Error) {
	if depth >= maxTableDepth {
		return nil, tableErr("nested deeper than %d", maxTableDepth)
	}
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	var err *Error
	for _, v := range a {
		if dst, err = appendValue(dst, v, depth); err != nil {
			return nil, err
		}
	}
	return patchSize(dst, start)
}

// patchSize fills in the 4-byte size written at dst[start].
func patchSize(dst []byte, start int) ([]byte, *Error) {
	size := len(dst) - start - 4
	if uint64(size) > math.MaxUint32 {
		return nil, tableErr("%d bytes do not fit a 4-byte size", size)
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(size))
	return dst, nil
}

// appendValue appends one tagged value; depth is that of its container.
func appendValue(dst []byte, v any, depth int) ([]byte, *Error) {
	be := binary.BigEndian
	switch v := v.(type) {
	case nil:
		return append(dst, 'V'), nil
	case bool:
		return append(dst, 't', bit(v, 0)), nil
	case int8:
		return append(dst, 'b', uint8(v)), nil
	case uint8:
		return append(dst, 'B', v), nil
	case int16:
		return be.AppendUint16(append(dst, 's'), uint16(v)), nil
	case uint16:
		return be.AppendUint16(append(dst, 'u'), v), nil
	case int32:
		return be.AppendUint32(append(dst, 'I'), uint32(v)), nil
	case uint32:
		return be.AppendUint32(append(dst, 'i'), v), nil
	case int:
		if v >= math.MinInt32 && v <= math.MaxInt32 {
			return be.AppendUint32(append(dst, 'I'), uint32(v)), nil
		}
		return be.AppendUint64(append(dst, 'l'), uint64(v)), nil
	case int64:
		return be.AppendUint64(append(dst, 'l'), uint64(v)), nil
	case float32:
		return be.AppendUint32(append(dst, 'f'), math.Float32bits(v)), nil
	case float64:
		return be.AppendUint64(append(dst, 'd'), math.Float64bits(v)), nil
	case Decimal:
		return be.AppendUint32(append(dst, 'D', v.Scale), uint32(v.Value)), nil
	case time.Time:
		return be.AppendUint64(append(dst, 'T'), uint64(v.Unix())), nil
	case string:
		if uint64(len(v)) > math.MaxUint32 {
			return nil, tableErr("string of %d bytes does not fit a 4-byte size", len(v))
		}
		return append(be.AppendUint32(append(dst, 'S'), uint32(len(v))), v...), nil
	case []byte:
		if uint64(len(v)) > math.MaxUint32 {
			return nil, tableErr("byte array of %d bytes does not fit a 4-byte size", len(v))
		}
		return append(be.AppendUint32(append(dst, 'x'), uint32(len(v))), v...), nil
	case []any:
		return appendArray(append(dst, 'A'), v, depth+1)
	case Table:
		return appendTable(append(dst, 'F'), v, depth+1)
	case map[string]any:
		return appendTable(append(dst, 'F'), Table(v), depth+1)
	}
	return nil, tableErr("cannot encode a value of type %T", v)
}

// checkTable reports what AppendTable would reject in t, without encoding.
func checkTable(t Table, depth int) *Error {
	if depth >= maxTableDepth {
		return tableErr("nested deeper than %d", maxTableDepth)
	}
	for k, v := range t {
		if len(k) > maxShortstr {
			return tableErr("field name is %d bytes, at most 255 allowed", len(k))
		}
		if err := checkValue(v, depth); err != nil {
			return err
		}
	}
	return nil
}

func checkValue(v any, depth int) *Error {
	switch v := v.(type) {
	case nil, bool, int8, uint8, int16, uint16, int32, uint32, int, int64,
		float32, float64, Decimal, time.Time:
		return nil
	case string:
		if uint64(len(v)) > math.MaxUint32 {
			return tableErr("string of %d bytes does not fit a 4-byte size", len(v))
		}
		return nil
	case []byte:
		if uint64(len(v)) > math.MaxUint32 {
			return tableErr("byte array of %d bytes does not fit a 4-byte size", len(v))
		}
		return nil
	case []any:
		if depth+1 >= maxTableDepth {
			return tableErr("nested deeper than %d", maxTableDepth)
		}
		for _, e := range v {
			if err := checkValue(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	case Table:
		return checkTable(v, depth+1)
	case map[string]any:
		return checkTable(Table(v), depth+1)
	}
	return tableErr("cannot encode a value of type %T", v)
}
