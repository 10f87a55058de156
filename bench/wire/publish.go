package wire

// AppendBasicPublishMethod appends a basic.publish method frame.
func AppendBasicPublishMethod(dst []byte, ch uint16, exchange, key string) []byte {
	dst, s := AppendMethodHeader(dst, ch, BasicPublish)
	dst = AppendShort(dst, 0)
	dst = AppendShortstr(dst, exchange)
	dst = AppendShortstr(dst, key)
	dst = append(dst, 0)
	return EndFrame(dst, s)
}

// Props are the basic properties a publish carries; zero values are left out.
type Props struct {
	DeliveryMode uint8
	Priority     uint8  // sent when HasPriority
	HasPriority  bool   // priority 0 is a value too
	Expiration   string // per-message TTL, ms as a decimal string
}

// Property flag bits (basic class), in the order their fields are encoded.
const (
	PriorityFlag   = uint16(1 << 11)
	ExpirationFlag = uint16(1 << 8)
)

// AppendContentHeader appends a basic content header frame. deliveryMode 0
// sends no properties at all.
func AppendContentHeader(dst []byte, ch uint16, bodySize uint64, deliveryMode uint8) []byte {
	return AppendContentHeaderProps(dst, ch, bodySize, Props{DeliveryMode: deliveryMode})
}

// AppendContentHeaderProps appends a basic content header frame with p.
func AppendContentHeaderProps(dst []byte, ch uint16, bodySize uint64, p Props) []byte {
	dst, s := BeginFrame(dst, FrameHeader, ch)
	dst = AppendShort(dst, ClassBasic)
	dst = AppendShort(dst, 0)
	dst = AppendLonglong(dst, bodySize)
	var flags uint16
	if p.DeliveryMode != 0 {
		flags |= DeliveryModeFlag
	}
	if p.HasPriority {
		flags |= PriorityFlag
	}
	if p.Expiration != "" {
		flags |= ExpirationFlag
	}
	dst = AppendShort(dst, flags)
	if p.DeliveryMode != 0 {
		dst = append(dst, p.DeliveryMode)
	}
	if p.HasPriority {
		dst = append(dst, p.Priority)
	}
	if p.Expiration != "" {
		dst = AppendShortstr(dst, p.Expiration)
	}
	return EndFrame(dst, s)
}

// AppendBody appends body as body frames of at most frameMax bytes each
// (frameMax 0 means one frame). An empty body appends nothing.
func AppendBody(dst []byte, ch uint16, body []byte, frameMax uint32) []byte {
	max := len(body)
	if frameMax > 0 {
		max = int(frameMax) - Overhead
	}
	for len(body) > 0 {
		n := min(len(body), max)
		var s int
		dst, s = BeginFrame(dst, FrameBody, ch)
		dst = append(dst, body[:n]...)
		dst = EndFrame(dst, s)
		body = body[n:]
	}
	return dst
}

// AppendPublish appends one complete publish (method, header and body
// frames) and returns the offset of the first body byte in dst, where a
// sender patches its timestamp. For an empty body the offset is -1.
func AppendPublish(dst []byte, ch uint16, exchange, key string, body []byte, deliveryMode uint8, frameMax uint32) ([]byte, int) {
	return AppendPublishProps(dst, ch, exchange, key, body, Props{DeliveryMode: deliveryMode}, frameMax)
}

// AppendPublishProps is AppendPublish with properties p.
func AppendPublishProps(dst []byte, ch uint16, exchange, key string, body []byte, p Props, frameMax uint32) ([]byte, int) {
	dst = AppendBasicPublishMethod(dst, ch, exchange, key)
	dst = AppendContentHeaderProps(dst, ch, uint64(len(body)), p)
	off := -1
	if len(body) > 0 {
		off = len(dst) + HeaderSize
	}
	return AppendBody(dst, ch, body, frameMax), off
}

// PublishSize is the encoded size of AppendPublish's output.
func PublishSize(exchange, key string, bodySize int, deliveryMode uint8, frameMax uint32) int {
	return PublishSizeProps(exchange, key, bodySize, Props{DeliveryMode: deliveryMode}, frameMax)
}

// PublishSizeProps is the encoded size of AppendPublishProps's output.
func PublishSizeProps(exchange, key string, bodySize int, p Props, frameMax uint32) int {
	n := Overhead + 4 + 2 + 1 + len(exchange) + 1 + len(key) + 1
	n += Overhead + 14
	if p.DeliveryMode != 0 {
		n++
	}
	if p.HasPriority {
		n++
	}
	if p.Expiration != "" {
		n += 1 + len(p.Expiration)
	}
	if bodySize > 0 {
		per := bodySize
		if frameMax > 0 {
			per = int(frameMax) - Overhead
		}
		frames := (bodySize + per - 1) / per
		n += bodySize + frames*Overhead
	}
	return n
}
