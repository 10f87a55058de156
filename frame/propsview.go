package frame

import "encoding/binary"

// HeaderField is one entry of a headers table seen in place: the byte
// range of the whole entry (name, tag and value) within the properties it
// was found in, and its value's type tag and bytes (after the tag).
type HeaderField struct {
	Start, End int
	Tag        byte
	Value      []byte
}

// PropsHeaderField finds the header named key in raw properties without
// decoding the table, so a broker can look at one header (CC, BCC, a hash
// header) of every message without allocating. ok is false when the
// headers property is absent, lacks key, or is malformed.
func PropsHeaderField(raw []byte, key string) (f HeaderField, ok bool) {
	f, ok, _, _ = propsHeaderFields(raw, key, "", false)
	return f, ok
}

// PropsHeaderFieldPair is PropsHeaderField for two keys in one walk of the
// table (CC and BCC, which every publish looks for).
func PropsHeaderFieldPair(raw []byte, k1, k2 string) (f1 HeaderField, ok1 bool, f2 HeaderField, ok2 bool) {
	return propsHeaderFields(raw, k1, k2, true)
}

func propsHeaderFields(raw []byte, k1, k2 string, two bool) (f1 HeaderField, ok1 bool, f2 HeaderField, ok2 bool) {
	off, err := scanProps(raw, PropHeaders, false)
	if err != nil || off < 0 {
		return
	}
	body, err := tableBody(raw[off:], 0, "table")
	if err != nil {
		return
	}
	pos := off + 4
	for len(body) > 0 {
		name, rest, err := tableKey(body)
		if err != nil {
			return HeaderField{}, false, HeaderField{}, false
		}
		vn, err := skipValue(rest, 0)
		if err != nil {
			return HeaderField{}, false, HeaderField{}, false
		}
		entry := len(body) - len(rest) + vn
		switch {
		case !ok1 && string(name) == k1:
			f1, ok1 = HeaderField{Start: pos, End: pos + entry, Tag: rest[0], Value: rest[1:vn]}, true
		case two && !ok2 && string(name) == k2:
			f2, ok2 = HeaderField{Start: pos, End: pos + entry, Tag: rest[0], Value: rest[1:vn]}, true
		}
		if ok1 && (!two || ok2) {
			return
		}
		pos += entry
		body = body[entry:]
	}
	return
}

// PropsWithoutHeaderField returns a copy of raw with the header entry f
// (from PropsHeaderField on the same raw) cut out and the table's size
// fixed: everything else stays byte for byte as sent.
func PropsWithoutHeaderField(raw []byte, f HeaderField) []byte {
	off, err := scanProps(raw, PropHeaders, false)
	if err != nil || off < 0 || f.Start < off+4 || f.End > len(raw) || f.Start > f.End {
		return raw
	}
	out := make([]byte, 0, len(raw)-(f.End-f.Start))
	out = append(out, raw[:f.Start]...)
	out = append(out, raw[f.End:]...)
	size := binary.BigEndian.Uint32(raw[off:])
	binary.BigEndian.PutUint32(out[off:], size-uint32(f.End-f.Start))
	return out
}

// ArrayStrings calls fn with each longstr element of the field array value
// v (a HeaderField.Value of tag 'A'), skipping elements of other types, as
// RabbitMQ does for the CC and BCC headers. It stops at malformed input.
func ArrayStrings(v []byte, fn func(s []byte)) {
	body, err := tableBody(v, 1, "array")
	if err != nil {
		return
	}
	for len(body) > 0 {
		vn, err := skipValue(body, 1)
		if err != nil {
			return
		}
		if body[0] == 'S' {
			fn(body[5:vn])
		}
		body = body[vn:]
	}
}

// PropsWithShortstr returns a copy of raw with the present shortstr
// property flag set to v (at most 255 bytes), the rest byte for byte as
// sent; raw itself when the property is absent or raw malformed.
func PropsWithShortstr(raw []byte, flag uint16, v string) []byte {
	old, ok := PropsShortstr(raw, flag)
	if !ok || len(v) > 255 {
		return raw
	}
	off, _ := scanProps(raw, flag, false)
	end := off + 1 + len(old)
	out := make([]byte, 0, len(raw)-len(old)+len(v))
	out = append(out, raw[:off]...)
	out = append(out, byte(len(v)))
	out = append(out, v...)
	return append(out, raw[end:]...)
}

// PropsTimestamp returns the timestamp property (seconds since the epoch)
// without decoding the rest.
func PropsTimestamp(raw []byte) (uint64, bool) {
	off, err := scanProps(raw, PropTimestamp, false)
	if err != nil || off < 0 || off+8 > len(raw) {
		return 0, false
	}
	return binary.BigEndian.Uint64(raw[off:]), true
}
