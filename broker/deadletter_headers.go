package broker

import (
	"encoding/binary"
	"errors"
	"slices"
	"time"

	"github.com/warrenmq/warren/frame"
)

// The dead-lettered copy's headers, byte for byte as RabbitMQ 3.10's
// rabbit_dead_letter:make_msg writes them. A client can see the order of a
// table's fields (pika keeps it), and RabbitMQ's is not simply sorted:
//
//   - the top-level headers table is sorted by name (every change goes
//     through rabbit_misc:set_table_value, which sorts);
//   - the first x-death entry a message gets is written in the order
//     count, reason, queue, time, exchange, routing-keys and
//     original-expiration, unsorted, and keeps that order for good;
//   - a later entry, new or counted up, is sorted;
//   - with two or more entries already there, the others are first
//     grouped by queue and reason (group_by_queue_and_reason), which keeps
//     the first entry of each pair and reverses their order;
//   - everything else (nested tables a client sent, the entries that
//     are not touched) stays as it came.
//
// So the table is edited as raw fields rather than decoded into a map,
// which would sort nested tables too.

// rawField is one field of a headers table: its name and its value's
// type tag and bytes, untouched.
type rawField struct {
	name  string
	tag   byte
	value []byte
}

var errRawTable = errors.New("malformed field table")

// rawValueLen is the length of the value of type tag at the start of b.
func rawValueLen(tag byte, b []byte) (int, error) {
	var n int
	switch tag {
	case 'V':
		n = 0
	case 't', 'b', 'B':
		n = 1
	case 's', 'u':
		n = 2
	case 'I', 'i', 'f':
		n = 4
	case 'D':
		n = 5
	case 'l', 'd', 'T':
		n = 8
	case 'S', 'x', 'A', 'F':
		if len(b) < 4 {
			return 0, errRawTable
		}
		n = 4 + int(binary.BigEndian.Uint32(b))
	default:
		return 0, errRawTable
	}
	if n > len(b) || n < 0 {
		return 0, errRawTable
	}
	return n, nil
}

// parseRawTable splits a table body (without its size) into fields.
func parseRawTable(b []byte) ([]rawField, error) { return parseRawFields(b, true) }

// parseRawArray splits an array body (without its size) into elements.
func parseRawArray(b []byte) ([]rawField, error) { return parseRawFields(b, false) }

// parseRawFields is both: a table's fields are named, an array's are not.
func parseRawFields(b []byte, named bool) ([]rawField, error) {
	var out []rawField
	for len(b) > 0 {
		var f rawField
		if named {
			kl := int(b[0])
			if len(b) < 1+kl+1 {
				return nil, errRawTable
			}
			f.name = string(b[1 : 1+kl])
			b = b[1+kl:]
		}
		f.tag = b[0]
		n, err := rawValueLen(f.tag, b[1:])
		if err != nil {
			return nil, err
		}
		f.value = b[1 : 1+n]
		out = append(out, f)
		b = b[1+n:]
	}
	return out, nil
}

func appendRawTable(dst []byte, fs []rawField) []byte { return appendRawFields(dst, fs, true) }

func appendRawArray(dst []byte, es []rawField) []byte { return appendRawFields(dst, es, false) }

// appendRawFields appends a table (named) or an array of fs with its size.
func appendRawFields(dst []byte, fs []rawField, named bool) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	for _, f := range fs {
		if named {
			dst = append(dst, byte(len(f.name)))
			dst = append(dst, f.name...)
		}
		dst = append(dst, f.tag)
		dst = append(dst, f.value...)
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

func longstrValue(s string) []byte {
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(s)), uint32(len(s)))
	return append(b, s...)
}

func longValue(n int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

// sortFields is rabbit_misc:sort_field_table: a stable sort by name
// (Erlang compares binaries byte by byte, as Go compares strings).
func sortFields(fs []rawField) {
	slices.SortStableFunc(fs, func(a, b rawField) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
}

// setField is rabbit_misc:set_table_value: replace the field of that name
// in place or append it, then sort.
func setField(fs []rawField, f rawField) []rawField {
	if i := slices.IndexFunc(fs, func(g rawField) bool { return g.name == f.name }); i >= 0 {
		fs[i] = f
	} else {
		fs = append(fs, f)
	}
	sortFields(fs)
	return fs
}

// fieldString is a longstr field's text, for x_death_event_key lookups.
func fieldString(fs []rawField, name string) (string, bool) {
	for _, f := range fs {
		if f.name == name {
			if f.tag != 'S' && f.tag != 'x' {
				return "", false
			}
			return string(f.value[4:]), true
		}
	}
	return "", false
}

// fieldInt is an integer field's value.
func fieldInt(fs []rawField, name string) (int64, bool) {
	for _, f := range fs {
		if f.name != name {
			continue
		}
		v := f.value
		switch f.tag {
		case 'b':
			return int64(int8(v[0])), true
		case 'B':
			return int64(v[0]), true
		case 's':
			return int64(int16(binary.BigEndian.Uint16(v))), true
		case 'u':
			return int64(binary.BigEndian.Uint16(v)), true
		case 'I':
			return int64(int32(binary.BigEndian.Uint32(v))), true
		case 'i':
			return int64(binary.BigEndian.Uint32(v)), true
		case 'l':
			return int64(binary.BigEndian.Uint64(v)), true
		}
		return 0, false
	}
	return 0, false
}

// xDeathEntry is one element of x-death kept raw, with its parsed fields
// when it is a table.
type xDeathEntry struct {
	raw    rawField // tag and value as an array element
	fields []rawField
	table  bool
}

func (e *xDeathEntry) key() (q, r string, ok bool) {
	if !e.table {
		return "", "", false
	}
	q, ok1 := fieldString(e.fields, "queue")
	r, ok2 := fieldString(e.fields, "reason")
	return q, r, ok1 && ok2
}

// groupByQueueAndReason is rabbit_dead_letter:group_by_queue_and_reason
// of RabbitMQ 3.10: for two or more entries, the first entry of each
// (queue, reason), given a count if it had none, in reverse order.
func groupByQueueAndReason(es []xDeathEntry) []xDeathEntry {
	if len(es) < 2 {
		return es
	}
	type qr struct{ q, r string }
	var seen []qr
	var acc []xDeathEntry
	for _, e := range es {
		q, r, _ := e.key()
		var first *xDeathEntry
		n := 0
		for i := range es {
			if q2, r2, _ := es[i].key(); q2 == q && r2 == r {
				if first == nil {
					first = &es[i]
				}
				n++
			}
		}
		aug := *first
		if _, has := fieldInt(aug.fields, "count"); !has && aug.table {
			aug.fields = append([]rawField{{name: "count", tag: 'l', value: longValue(int64(n))}}, aug.fields...)
			aug.raw = rawField{tag: 'F', value: appendRawTable(nil, aug.fields)}
		}
		k := qr{q, r}
		if len(acc) == 0 || !slices.Contains(seen, k) {
			acc = append([]xDeathEntry{aug}, acc...)
		}
		seen = append(seen, k)
	}
	return acc
}

// deathInfo is what one dead lettering records.
type deathInfo struct {
	reason, queue, exchange string
	time                    time.Time
	routingKeys             []string
	expiration              string // the message's own, if it had one
}

// fields is the info in make_msg's order, count first.
func (d *deathInfo) fields(count int64) []rawField {
	rks := make([]rawField, len(d.routingKeys))
	for i, k := range d.routingKeys {
		rks[i] = rawField{tag: 'S', value: longstrValue(k)}
	}
	fs := []rawField{
		{name: "count", tag: 'l', value: longValue(count)},
		{name: "reason", tag: 'S', value: longstrValue(d.reason)},
		{name: "queue", tag: 'S', value: longstrValue(d.queue)},
		{name: "time", tag: 'T', value: longValue(d.time.Unix())},
		{name: "exchange", tag: 'S', value: longstrValue(d.exchange)},
		{name: "routing-keys", tag: 'A', value: appendRawArray(nil, rks)},
	}
	if d.expiration != "" {
		fs = append(fs, rawField{name: "original-expiration", tag: 'S', value: longstrValue(d.expiration)})
	}
	return fs
}

// updateXDeathRaw is update_x_death_header on raw header fields.
func updateXDeathRaw(h []rawField, d *deathInfo) ([]rawField, error) {
	i := slices.IndexFunc(h, func(f rawField) bool { return f.name == "x-death" })
	if i < 0 {
		h = setField(h, rawField{name: "x-first-death-reason", tag: 'S', value: longstrValue(d.reason)})
		h = setField(h, rawField{name: "x-first-death-queue", tag: 'S', value: longstrValue(d.queue)})
		h = setField(h, rawField{name: "x-first-death-exchange", tag: 'S', value: longstrValue(d.exchange)})
		entry := rawField{tag: 'F', value: appendRawTable(nil, d.fields(1))}
		return setField(h, rawField{name: "x-death", tag: 'A', value: appendRawArray(nil, []rawField{entry})}), nil
	}
	if h[i].tag != 'A' {
		// RabbitMQ resets an x-death of another type (and logs it).
		entry := rawField{tag: 'F', value: appendRawTable(nil, d.fields(1))}
		return setField(h, rawField{name: "x-death", tag: 'A', value: appendRawArray(nil, []rawField{entry})}), nil
	}
	elems, err := parseRawArray(h[i].value[4:])
	if err != nil {
		return nil, err
	}
	es := make([]xDeathEntry, len(elems))
	for j, e := range elems {
		es[j].raw = e
		if e.tag == 'F' {
			fs, err := parseRawTable(e.value[4:])
			if err != nil {
				return nil, err
			}
			es[j].fields, es[j].table = fs, true
		}
	}
	grouped := groupByQueueAndReason(es)
	var match *xDeathEntry
	out := []rawField{{}} // the new or counted entry goes first
	for j := range grouped {
		if q, r, ok := grouped[j].key(); ok && match == nil && q == d.queue && r == d.reason {
			match = &grouped[j]
			continue
		}
		out = append(out, grouped[j].raw)
	}
	var info []rawField
	if match == nil {
		info = d.fields(1)
	} else {
		info = slices.Clone(match.fields)
		if n, ok := fieldInt(info, "count"); ok {
			k := slices.IndexFunc(info, func(f rawField) bool { return f.name == "count" })
			info[k] = rawField{name: "count", tag: 'l', value: longValue(n + 1)}
		} else {
			info = append([]rawField{{name: "count", tag: 'l', value: longValue(1)}}, info...)
		}
	}
	sortFields(info)
	out[0] = rawField{tag: 'F', value: appendRawTable(nil, info)}
	return setField(h, rawField{name: "x-death", tag: 'A', value: appendRawArray(nil, out)}), nil
}

// rawHeaders finds the headers table in raw properties: its fields, and
// the offsets of the table (size included) in raw; start is where it would
// go when absent.
func rawHeaders(raw []byte) (fs []rawField, start, end int, err error) {
	if len(raw) < 2 {
		return nil, 0, 0, errRawTable
	}
	flags := binary.BigEndian.Uint16(raw)
	off := 2
	for _, f := range [...]uint16{frame.PropContentType, frame.PropContentEncoding} {
		if flags&f != 0 {
			if off >= len(raw) || off+1+int(raw[off]) > len(raw) {
				return nil, 0, 0, errRawTable
			}
			off += 1 + int(raw[off])
		}
	}
	if flags&frame.PropHeaders == 0 {
		return nil, off, off, nil
	}
	n, err := rawValueLen('F', raw[off:])
	if err != nil {
		return nil, 0, 0, err
	}
	fs, err = parseRawTable(raw[off+4 : off+n])
	return fs, off, off + n, err
}

// deadLetterProps is the dead-lettered copy's properties: p (decoded from
// raw) without its expiration, with the x-death update on raw's headers,
// and without CC when dropCC (a dead-letter routing key is set). It
// returns the new properties and the new x-death, decoded, for cycle
// detection.
func deadLetterProps(raw []byte, p frame.Properties, d *deathInfo, dropCC bool) ([]byte, []any, error) {
	h, _, _, err := rawHeaders(raw)
	if err != nil {
		return nil, nil, err
	}
	if h, err = updateXDeathRaw(h, d); err != nil {
		return nil, nil, err
	}
	if dropCC {
		h = slices.DeleteFunc(h, func(f rawField) bool { return f.name == "CC" || f.name == "BCC" })
	}
	p.Headers = nil
	p.Expiration = ""
	out := frame.AppendProperties(nil, &p)
	_, at, _, err := rawHeaders(out)
	if err != nil {
		return nil, nil, err
	}
	table := appendRawTable(nil, h)
	res := make([]byte, 0, len(out)+len(table))
	res = append(res, out[:at]...)
	res = append(res, table...)
	res = append(res, out[at:]...)
	binary.BigEndian.PutUint16(res, binary.BigEndian.Uint16(res)|frame.PropHeaders)
	t, err := frame.PropsHeaders(res)
	if err != nil {
		return nil, nil, err
	}
	deaths, _ := t["x-death"].([]any)
	return res, deaths, nil
}

// storeBCCFlag marks a record whose properties still hold the BCC header
// its publisher sent (segment records leave bits 1-6 of Flags to their
// user). RabbitMQ strips BCC from what it delivers but keeps its keys in
// the message's routing keys, and a dead letter without a dead-letter
// routing key is routed with all of them; so the header is kept in the
// store and cut out of every delivery.
const storeBCCFlag uint8 = 1 << 1

// withoutBCC is props without its BCC header (a copy), or props when it
// has none.
func withoutBCC(props []byte) []byte {
	if f, ok := frame.PropsHeaderField(props, "BCC"); ok {
		return frame.PropsWithoutHeaderField(props, f)
	}
	return props
}
