package router

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/warrenmq/warren/frame"
)

// canonArgs encodes binding arguments into a string that is equal for two
// tables exactly when RabbitMQ would consider the argument tables the same
// term (same keys, same types, same values), so it can serve as part of a
// binding's identity in a Go map. Keys are sorted, every value carries a
// type tag and strings are length-prefixed, so no two tables collide.
func canonArgs(t frame.Table) string {
	if len(t) == 0 {
		return ""
	}
	return string(appendCanon(nil, t))
}

func appendCanon(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, 'V')
	case bool:
		if v {
			return append(b, 't', '1')
		}
		return append(b, 't', '0')
	case int8:
		return strconv.AppendInt(append(b, 'b'), int64(v), 10)
	case uint8:
		return strconv.AppendUint(append(b, 'B'), uint64(v), 10)
	case int16:
		return strconv.AppendInt(append(b, 's'), int64(v), 10)
	case uint16:
		return strconv.AppendUint(append(b, 'u'), uint64(v), 10)
	case int32:
		return strconv.AppendInt(append(b, 'I'), int64(v), 10)
	case uint32:
		return strconv.AppendUint(append(b, 'i'), uint64(v), 10)
	case int64:
		return strconv.AppendInt(append(b, 'l'), v, 10)
	case int: // frame.AppendTable encodes a Go int as a long
		return strconv.AppendInt(append(b, 'l'), int64(v), 10)
	case float32:
		return strconv.AppendUint(append(b, 'f'), uint64(math.Float32bits(v)), 16)
	case float64:
		return strconv.AppendUint(append(b, 'd'), math.Float64bits(v), 16)
	case frame.Decimal:
		b = strconv.AppendUint(append(b, 'D'), uint64(v.Scale), 10)
		return strconv.AppendInt(append(b, ','), int64(v.Value), 10)
	case string:
		return appendLenPrefixed(append(b, 'S'), v)
	case []byte:
		return appendLenPrefixed(append(b, 'x'), string(v))
	case time.Time:
		return strconv.AppendInt(append(b, 'T'), v.Unix(), 10)
	case []any:
		b = strconv.AppendInt(append(b, 'A'), int64(len(v)), 10)
		b = append(b, ':')
		for _, e := range v {
			b = appendCanon(b, e)
		}
		return b
	case frame.Table:
		return appendCanonTable(b, v)
	case map[string]any:
		return appendCanonTable(b, v)
	}
	// Not an AMQP field type; still give it a stable identity.
	return appendLenPrefixed(append(b, '?'), fmt.Sprintf("%T:%v", v, v))
}

func appendCanonTable(b []byte, t map[string]any) []byte {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = strconv.AppendInt(append(b, 'F'), int64(len(keys)), 10)
	b = append(b, ':')
	for _, k := range keys {
		b = appendLenPrefixed(b, k)
		b = appendCanon(b, t[k])
	}
	return b
}

func appendLenPrefixed(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}
