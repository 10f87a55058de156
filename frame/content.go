package frame

import (
	"encoding/binary"
	"math"
	"slices"
)

// Content header payload (spec 4.2.6.1):
//
//	0          2        4           12               14
//	+----------+--------+-----------+----------------+---------------+
//	| class-id | weight | body size | property flags | property list |
//	+----------+--------+-----------+----------------+---------------+
//	   short     short    longlong     short (or more)
//
// weight is unused and must be zero; we send zero and ignore what arrives,
// as nothing depends on it.
const contentHeaderFixed = 12

// ParseContentHeader splits a content header frame's payload. rawProps is
// a view into payload (flags word(s) and property list, exactly as on the
// wire) and is not validated here: the broker stores and re-sends it, and
// checks it with ValidateProperties only if it wants to. A payload too
// short for the fixed part is a frame error (501), as it is to RabbitMQ;
// one without even a flags word is malformed (501). Does not allocate.
func ParseContentHeader(payload []byte) (classID uint16, bodySize uint64, rawProps []byte, err error) {
	if len(payload) < contentHeaderFixed {
		return 0, 0, nil, Errorf(FrameError, "content header payload is %d bytes, the fixed part needs 12", len(payload))
	}
	if len(payload) < contentHeaderFixed+2 {
		return 0, 0, nil, propsErr("flags need 2 bytes, %d present", len(payload)-contentHeaderFixed)
	}
	classID = binary.BigEndian.Uint16(payload)
	bodySize = binary.BigEndian.Uint64(payload[4:])
	return classID, bodySize, payload[contentHeaderFixed:len(payload):len(payload)], nil
}

// AppendContentHeader appends a content header frame carrying rawProps
// untouched.
func AppendContentHeader(dst []byte, ch uint16, classID uint16, bodySize uint64, rawProps []byte) []byte {
	start := len(dst)
	dst = beginFrame(dst, FrameHeader, ch)
	dst = append(dst, byte(classID>>8), byte(classID), 0, 0)
	dst = binary.BigEndian.AppendUint64(dst, bodySize)
	dst = append(dst, rawProps...)
	return endFrame(dst, start)
}

// AppendBody appends body as body frames of at most frameMax bytes each,
// frame header and frame-end included, as frame-max is negotiated. An empty
// body appends nothing: a content of size 0 has no body frames. frameMax 0
// means no limit (one frame, up to 4 GiB of payload); a frameMax too small
// to carry a payload byte is treated as FrameMinSize rather than looping.
func AppendBody(dst []byte, ch uint16, body []byte, frameMax uint32) []byte {
	// Grown once: appending frame by frame would reallocate a buffer too
	// small for a large body many times over, leaving each copy to the GC.
	dst = slices.Grow(dst, BodyFramesLen(len(body), frameMax))
	chunk := bodyChunk(frameMax)
	for len(body) > 0 {
		n := len(body)
		if uint64(n) > chunk {
			n = int(chunk)
		}
		start := len(dst)
		dst = beginFrame(dst, FrameBody, ch)
		dst = append(dst, body[:n]...)
		dst = endFrame(dst, start)
		body = body[n:]
	}
	return dst
}

// BodyFramesLen returns how many bytes AppendBody adds for a body of n
// bytes, so callers can size a buffer once.
func BodyFramesLen(n int, frameMax uint32) int {
	if n == 0 {
		return 0
	}
	chunk := bodyChunk(frameMax)
	frames := (uint64(n) + chunk - 1) / chunk
	return n + int(frames)*frameOverhead
}

// bodyChunk is the most body one frame carries under frameMax.
func bodyChunk(frameMax uint32) uint64 {
	switch {
	case frameMax == 0:
		return math.MaxUint32
	case frameMax <= frameOverhead:
		return FrameMinSize - frameOverhead
	}
	return uint64(frameMax) - frameOverhead
}
