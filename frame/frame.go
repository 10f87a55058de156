package frame

import (
	"encoding/binary"
	"math"
)

// Frame layout (spec 2.3.5 and 4.2.3); these sizes never change:
//
//	0      1         3             7                  size+7 size+8
//	+------+---------+-------------+  +-------------+  +-----------+
//	| type | channel |    size     |  |   payload   |  | frame-end |
//	+------+---------+-------------+  +-------------+  +-----------+
//	 octet   short       long          size octets      octet 0xCE
const (
	FrameHeaderSize = 7
	// frameOverhead is header plus frame-end: frame-max counts both.
	frameOverhead = FrameHeaderSize + 1
)

// ProtocolHeader is what a 0-9-1 client sends before its first frame.
var ProtocolHeader = [8]byte{'A', 'M', 'Q', 'P', 0, 0, 9, 1}

// Frame is one parsed frame. Payload is a view into the buffer given to
// Parse and is valid only as long as that buffer is.
type Frame struct {
	Type    uint8
	Channel uint16
	Payload []byte
}

// Parse reads one frame from the start of b. n == 0 && err == nil means b
// does not yet hold a whole frame: read more and call again with the same
// bytes. Errors are *Error 501, which close the connection, of two kinds:
//
//   - n == 0: the framing is lost (a payload larger than frameMax, 0 = no
//     limit; a bad frame-end octet). Nothing after it can be read as frames.
//     frameMax counts header and frame-end, but, as RabbitMQ, the payload
//     may be up to their 8 bytes larger: clients often get it wrong.
//   - n > 0: a whole, well-delimited frame that is not acceptable (an
//     unknown frame type, a heartbeat with a payload: RabbitMQ's
//     "unknown_frame"). The stream goes on after n bytes, so the peer's
//     close-ok can still be read, as RabbitMQ reads it.
//
// The size is checked as soon as the 7-byte header is in, so an oversized
// frame is refused before the caller buffers it. Parse does not allocate.
func Parse(b []byte, frameMax uint32) (f Frame, n int, err error) {
	if len(b) < FrameHeaderSize {
		return Frame{}, 0, nil
	}
	typ := b[0]
	size := binary.BigEndian.Uint32(b[3:])
	if frameMax != 0 && uint64(size) > uint64(frameMax) {
		return Frame{}, 0, Errorf(FrameError, "type %d, all octets = <<>>: {frame_too_large,%d,%d}", typ, size, uint64(frameMax)-frameOverhead)
	}
	total := uint64(size) + frameOverhead
	if uint64(len(b)) < total {
		return Frame{}, 0, nil
	}
	end := FrameHeaderSize + int(size)
	if b[end] != FrameEnd {
		return Frame{}, 0, Errorf(FrameError, "frame-end octet is 0x%02x, want 0xCE (type %d, channel %d, size %d)",
			b[end], typ, binary.BigEndian.Uint16(b[1:]), size)
	}
	switch typ {
	case FrameMethod, FrameHeader, FrameBody:
	case FrameHeartbeat:
		if size != 0 {
			return Frame{}, end + 1, Errorf(FrameError, "heartbeat frame with a %d-byte payload", size)
		}
	default:
		return Frame{}, end + 1, Errorf(FrameError, "unknown frame type %d", typ)
	}
	// Capacity is capped so a caller appending to the payload cannot
	// overwrite the frame-end octet or the next frame.
	f = Frame{Type: typ, Channel: binary.BigEndian.Uint16(b[1:]), Payload: b[FrameHeaderSize:end:end]}
	return f, end + 1, nil
}

// beginFrame appends a frame header with a zero size; endFrame fills the
// size in once the payload is appended, so encoders never measure twice.
func beginFrame(dst []byte, typ uint8, ch uint16) []byte {
	return append(dst, typ, byte(ch>>8), byte(ch), 0, 0, 0, 0)
}

// endFrame patches the size of the frame that starts at dst[start] and
// appends frame-end.
func endFrame(dst []byte, start int) []byte {
	size := len(dst) - start - FrameHeaderSize
	binary.BigEndian.PutUint32(dst[start+3:], uint32(size))
	return append(dst, FrameEnd)
}

// AppendFrame appends a frame of any type around payload.
func AppendFrame(dst []byte, typ uint8, ch uint16, payload []byte) []byte {
	if uint64(len(payload)) > math.MaxUint32 {
		panic("BUG: frame: payload larger than 4 GiB")
	}
	start := len(dst)
	dst = beginFrame(dst, typ, ch)
	dst = append(dst, payload...)
	return endFrame(dst, start)
}

// AppendHeartbeat appends a heartbeat frame (always channel 0, no payload).
func AppendHeartbeat(dst []byte) []byte {
	return append(dst, FrameHeartbeat, 0, 0, 0, 0, 0, 0, FrameEnd)
}

// AppendMethodFrame appends m as one method frame on channel ch. Strings too
// long for their type are truncated and bad tables sent empty (see Method);
// call m.Validate first when the values come from outside.
func AppendMethodFrame(dst []byte, ch uint16, m Method) []byte {
	start := len(dst)
	dst = beginFrame(dst, FrameMethod, ch)
	dst = binary.BigEndian.AppendUint32(dst, m.ID())
	dst = m.AppendArgs(dst)
	return endFrame(dst, start)
}
