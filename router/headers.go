package router

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/warrenmq/warren/frame"
)

// Headers exchanges follow rabbit_exchange_type_headers:
//   - x-match is "all" (the default when absent), "any", "all-with-x" or
//     "any-with-x"; any other value, or a non-longstr type, fails Bind with
//     ErrInvalidArgs (RabbitMQ: 406 binding_invalid).
//   - the x-match argument itself never takes part in matching; other
//     arguments whose name starts with "x-" take part only in the -with-x
//     modes.
//   - an argument with a void (nil) value matches when the header is
//     present, whatever its value.
//   - "all" with nothing left to match routes everything; "any" with
//     nothing left routes nothing.
//   - values compare with Erlang's == as RabbitMQ does (see valueEqual).

// hbinding is one compiled binding of a headers exchange.
type hbinding[Q comparable] struct {
	d   dest[Q]
	qid int32
	bk  bindKey // identity, to find it again on unbind
	m   *hmatch
}

type hmatch struct {
	any  bool
	pats []hpat
}

type hpat struct {
	key  string
	void bool
	val  any
}

// compileHeaders validates x-match and keeps the arguments that take part
// in matching.
func compileHeaders(args frame.Table) (*hmatch, error) {
	m := &hmatch{}
	withX := false
	if v, ok := args["x-match"]; ok {
		s, isStr := v.(string)
		if !isStr {
			return nil, fmt.Errorf("%w: invalid x-match field type %T (value %v); expected longstr", ErrInvalidArgs, v, v)
		}
		switch s {
		case "all":
		case "any":
			m.any = true
		case "all-with-x":
			withX = true
		case "any-with-x":
			m.any, withX = true, true
		default:
			return nil, fmt.Errorf("%w: invalid x-match field value %q; expected all, any, all-with-x, or any-with-x", ErrInvalidArgs, s)
		}
	}
	for k, v := range args {
		if k == "x-match" || (!withX && strings.HasPrefix(k, "x-")) {
			continue
		}
		m.pats = append(m.pats, hpat{key: k, void: v == nil, val: v})
	}
	// Deterministic order keeps matching cost and behaviour reproducible.
	slices.SortFunc(m.pats, func(a, b hpat) int { return strings.Compare(a.key, b.key) })
	return m, nil
}

func (m *hmatch) match(h frame.Table) bool {
	for _, p := range m.pats {
		v, ok := h[p.key]
		ok = ok && (p.void || valueEqual(p.val, v))
		if ok == m.any {
			return ok // first hit decides "any", first miss decides "all"
		}
	}
	return !m.any
}

// valueEqual is Erlang's == on the decoded field values, which is what
// RabbitMQ's headers match uses (PV == DV, types ignored):
//   - all numbers compare by value across types: int8 7, uint32 7 and
//     float64 7.0 are equal (a timestamp is an integer of seconds there,
//     so time.Time compares as its Unix seconds);
//   - string (longstr) and []byte (byte array) are both binaries: equal
//     when their bytes are;
//   - bool, Decimal (scale and value) and void compare within their type;
//   - arrays and tables compare element-wise with these rules. (RabbitMQ
//     keeps nested type tags, so it would tell int32 1 from int64 1 inside
//     an array; nobody routes on that.)
func valueEqual(a, b any) bool {
	if ai, ok := asInt(a); ok {
		if bi, ok := asInt(b); ok {
			return ai == bi
		}
		if bf, ok := asFloat(b); ok {
			return float64(ai) == bf
		}
		return false
	}
	if af, ok := asFloat(a); ok {
		if bi, ok := asInt(b); ok {
			return af == float64(bi)
		}
		if bf, ok := asFloat(b); ok {
			return af == bf
		}
		return false
	}
	switch a := a.(type) {
	case nil:
		return b == nil
	case bool:
		bb, ok := b.(bool)
		return ok && a == bb
	case string:
		switch b := b.(type) {
		case string:
			return a == b
		case []byte:
			return a == string(b)
		}
	case []byte:
		switch b := b.(type) {
		case string:
			return string(a) == b
		case []byte:
			return bytes.Equal(a, b)
		}
	case frame.Decimal:
		bd, ok := b.(frame.Decimal)
		return ok && a == bd
	case []any:
		bs, ok := b.([]any)
		return ok && slices.EqualFunc(a, bs, valueEqual)
	case frame.Table:
		return tableEqual(a, b)
	case map[string]any:
		return tableEqual(frame.Table(a), b)
	}
	return false
}

func tableEqual(a frame.Table, b any) bool {
	var bt frame.Table
	switch b := b.(type) {
	case frame.Table:
		bt = b
	case map[string]any:
		bt = b
	default:
		return false
	}
	if len(a) != len(bt) {
		return false
	}
	for k, av := range a {
		bv, ok := bt[k]
		if !ok || !valueEqual(av, bv) {
			return false
		}
	}
	return true
}

// asInt widens every integer kind; uint64 above MaxInt64 falls through to
// asFloat (AMQP has no such type; it can only come from Go callers).
func asInt(v any) (int64, bool) {
	switch v := v.(type) {
	case int8:
		return int64(v), true
	case uint8:
		return int64(v), true
	case int16:
		return int64(v), true
	case uint16:
		return int64(v), true
	case int32:
		return int64(v), true
	case uint32:
		return int64(v), true
	case int64:
		return v, true
	case int:
		return int64(v), true
	case uint:
		if uint64(v) <= math.MaxInt64 {
			return int64(v), true
		}
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v), true
		}
	case time.Time:
		return v.Unix(), true
	}
	return 0, false
}

func asFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case float32:
		return float64(v), true
	case float64:
		return v, true
	case uint:
		return float64(v), true
	case uint64:
		return float64(v), true
	}
	return 0, false
}
