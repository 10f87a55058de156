package wire

import "encoding/binary"

// BeginFrame appends a frame header with a zero size and returns the offset
// of the frame start, to be passed to EndFrame once the payload is appended.
func BeginFrame(dst []byte, typ uint8, ch uint16) ([]byte, int) {
	start := len(dst)
	return append(dst, typ, byte(ch>>8), byte(ch), 0, 0, 0, 0), start
}

// EndFrame patches the payload size of the frame begun at start and appends
// the frame-end octet.
func EndFrame(dst []byte, start int) []byte {
	binary.BigEndian.PutUint32(dst[start+3:], uint32(len(dst)-start-HeaderSize))
	return append(dst, FrameEnd)
}

// AppendShort appends a big-endian uint16.
func AppendShort(dst []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(dst, v) }

// AppendLong appends a big-endian uint32.
func AppendLong(dst []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(dst, v) }

// AppendLonglong appends a big-endian uint64.
func AppendLonglong(dst []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(dst, v) }

// AppendShortstr appends a short string (length octet, at most 255 bytes;
// longer input is truncated, the load tool never needs more).
func AppendShortstr(dst []byte, s string) []byte {
	if len(s) > 255 {
		s = s[:255]
	}
	return append(append(dst, byte(len(s))), s...)
}

// AppendLongstr appends a long string (uint32 length).
func AppendLongstr(dst []byte, s string) []byte {
	return append(AppendLong(dst, uint32(len(s))), s...)
}

// Bits packs booleans into one octet, first argument in bit 0.
func Bits(bs ...bool) byte {
	var b byte
	for i, v := range bs {
		if v {
			b |= 1 << i
		}
	}
	return b
}

// Field is one entry of a field table; Value is string, bool, int32 or Table.
type Field struct {
	Key   string
	Value any
}

// Table is an ordered field table (order kept so encodings are stable).
type Table []Field

// AppendTable appends a field table. Unsupported value types are skipped.
func AppendTable(dst []byte, t Table) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	for _, f := range t {
		switch v := f.Value.(type) {
		case string:
			dst = append(AppendShortstr(dst, f.Key), 'S')
			dst = AppendLongstr(dst, v)
		case bool:
			dst = append(AppendShortstr(dst, f.Key), 't', Bits(v))
		case int32:
			dst = append(AppendShortstr(dst, f.Key), 'I')
			dst = AppendLong(dst, uint32(v))
		case Table:
			dst = append(AppendShortstr(dst, f.Key), 'F')
			dst = AppendTable(dst, v)
		}
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

// AppendMethodHeader begins a method frame and writes its class and method ids.
func AppendMethodHeader(dst []byte, ch uint16, id uint32) ([]byte, int) {
	dst, start := BeginFrame(dst, FrameMethod, ch)
	return AppendLong(dst, id), start
}
