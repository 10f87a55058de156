package frame

import "encoding/binary"

// Properties are the basic class's content header properties (spec 1.8).
// A zero value means "absent": AppendProperties sets a property's flag only
// when its value is non-zero, so a property present on the wire with a zero
// value (priority 0, say) comes back absent after a decode and re-encode.
// The broker avoids that by re-sending rawProps untouched.
type Properties struct {
	ContentType     string
	ContentEncoding string
	Headers         Table
	DeliveryMode    uint8 // 1 transient, 2 persistent
	Priority        uint8
	CorrelationID   string
	ReplyTo         string
	Expiration      string
	MessageID       string
	Timestamp       uint64 // seconds since the epoch
	Type            string
	UserID          string
	AppID           string
	ClusterID       string // the spec's "reserved" property
}

// Property flag bits, in wire order: each present property sets its bit in
// the flags word, and the property list holds only those, from bit 15 down.
//
//	15 content-type   14 content-encoding  13 headers     12 delivery-mode
//	11 priority       10 correlation-id     9 reply-to     8 expiration
//	 7 message-id      6 timestamp          5 type         4 user-id
//	 3 app-id          2 cluster-id         1 (unused)     0 another flags word follows
const (
	PropContentType     uint16 = 1 << 15
	PropContentEncoding uint16 = 1 << 14
	PropHeaders         uint16 = 1 << 13
	PropDeliveryMode    uint16 = 1 << 12
	PropPriority        uint16 = 1 << 11
	PropCorrelationID   uint16 = 1 << 10
	PropReplyTo         uint16 = 1 << 9
	PropExpiration      uint16 = 1 << 8
	PropMessageID       uint16 = 1 << 7
	PropTimestamp       uint16 = 1 << 6
	PropType            uint16 = 1 << 5
	PropUserID          uint16 = 1 << 4
	PropAppID           uint16 = 1 << 3
	PropClusterID       uint16 = 1 << 2

	propUnused       uint16 = 1 << 1
	propContinuation uint16 = 1 << 0
)

func propsErr(format string, args ...any) *Error {
	return Errorf(malformedCode, "content properties: "+format, args...)
}

// propsStart reads the flags word(s) and returns the flags and the offset
// of the property list. The basic class defines 14 properties, all in the
// first word; continuation words are skipped but may not set any flag,
// because we could not know the type, and so the size, of what they flag.
func propsStart(raw []byte) (uint16, int, *Error) {
	if len(raw) < 2 {
		return 0, 0, propsErr("flags need 2 bytes, %d present", len(raw))
	}
	flags := binary.BigEndian.Uint16(raw)
	if flags&propUnused != 0 {
		return 0, 0, propsErr("flag bit 1 is set, but no property has it")
	}
	off := 2
	for w := flags; w&propContinuation != 0; off += 2 {
		if len(raw)-off < 2 {
			return 0, 0, propsErr("continued flags end early")
		}
		w = binary.BigEndian.Uint16(raw[off:])
		if w&^propContinuation != 0 {
			return 0, 0, propsErr("continued flags 0x%04x name properties the basic class lacks", w)
		}
	}
	return flags &^ propContinuation, off, nil
}

// scanProps walks the property list without allocating. With stop set it
// returns the offset of that property's value, or -1 if it is absent;
// with stop 0 it checks the whole list and that nothing follows it. deep
// validates the headers table's contents rather than only its size.
func scanProps(raw []byte, stop uint16, deep bool) (int, *Error) {
	flags, off, err := propsStart(raw)
	if err != nil {
		return 0, err
	}
	if stop != 0 && flags&stop == 0 {
		return -1, nil // absent: no need to walk the list (the common case for user-id)
	}
	for f := PropContentType; f >= PropClusterID; f >>= 1 {
		if flags&f == 0 {
			continue
		}
		if f == stop {
			return off, nil
		}
		left := raw[off:]
		var n int
		switch f {
		case PropHeaders:
			if deep {
				if n, err = skipTable(left, 0); err != nil {
					return 0, err
				}
			} else {
				if len(left) < 4 {
					return 0, propsErr("headers end early")
				}
				n = 4 + int(binary.BigEndian.Uint32(left))
			}
		case PropDeliveryMode, PropPriority:
			n = 1
		case PropTimestamp:
			n = 8
		default:
			if len(left) < 1 {
				return 0, propsErr("end early")
			}
			n = 1 + int(left[0])
		}
		if n < 0 || len(left) < n {
			return 0, propsErr("end early")
		}
		off += n
	}
	if stop != 0 {
		return -1, nil
	}
	if off != len(raw) {
		return 0, propsErr("%d unexpected bytes after the properties", len(raw)-off)
	}
	return off, nil
}

// ValidateProperties checks that raw (flags and property list, as in a
// content header) decodes, headers table included, without allocating.
// It returns *Error 501 if not.
func ValidateProperties(raw []byte) error {
	if _, err := scanProps(raw, 0, true); err != nil {
		return err
	}
	return nil
}

// PropsDeliveryMode returns the delivery-mode property without decoding the
// rest: 0 if it is absent or the properties before it are malformed.
func PropsDeliveryMode(raw []byte) uint8 {
	off, err := scanProps(raw, PropDeliveryMode, false)
	if err != nil || off < 0 || off >= len(raw) {
		return 0
	}
	return raw[off]
}

// PropsPriority returns the priority property without decoding the rest: 0
// if it is absent or the properties before it are malformed.
func PropsPriority(raw []byte) uint8 {
	off, err := scanProps(raw, PropPriority, false)
	if err != nil || off < 0 || off >= len(raw) {
		return 0
	}
	return raw[off]
}

// PropsShortstr returns the value of one shortstr property (PropUserID,
// PropExpiration, ...) as a view into raw, for the per-message checks that
// need one property on the hot path. ok is false if the property is absent
// or raw is malformed before or at it, or flag is not a shortstr property.
func PropsShortstr(raw []byte, flag uint16) (v []byte, ok bool) {
	switch flag {
	case PropHeaders, PropDeliveryMode, PropPriority, PropTimestamp:
		return nil, false
	}
	off, err := scanProps(raw, flag, false)
	if err != nil || off < 0 || off >= len(raw) {
		return nil, false
	}
	end := off + 1 + int(raw[off])
	if end > len(raw) {
		return nil, false
	}
	return raw[off+1 : end : end], true
}

// PropsHeaders decodes only the headers property: nil if it is absent.
func PropsHeaders(raw []byte) (Table, error) {
	off, err := scanProps(raw, PropHeaders, false)
	if err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, nil
	}
	t, _, terr := decodeTable(raw[off:], 0)
	if terr != nil {
		return nil, terr
	}
	return t, nil
}

// DecodeProperties decodes raw (flags and property list) into Properties,
// copying strings. Malformed input gives *Error 501.
func DecodeProperties(raw []byte) (Properties, error) {
	var p Properties
	flags, off, err := propsStart(raw)
	if err != nil {
		return p, err
	}
	r := reader{b: raw, off: off}
	if flags&PropContentType != 0 {
		p.ContentType = r.shortstr()
	}
	if flags&PropContentEncoding != 0 {
		p.ContentEncoding = r.shortstr()
	}
	if flags&PropHeaders != 0 {
		p.Headers = r.table()
	}
	if flags&PropDeliveryMode != 0 {
		p.DeliveryMode = r.octet()
	}
	if flags&PropPriority != 0 {
		p.Priority = r.octet()
	}
	if flags&PropCorrelationID != 0 {
		p.CorrelationID = r.shortstr()
	}
	if flags&PropReplyTo != 0 {
		p.ReplyTo = r.shortstr()
	}
	if flags&PropExpiration != 0 {
		p.Expiration = r.shortstr()
	}
	if flags&PropMessageID != 0 {
		p.MessageID = r.shortstr()
	}
	if flags&PropTimestamp != 0 {
		p.Timestamp = r.longlong()
	}
	if flags&PropType != 0 {
		p.Type = r.shortstr()
	}
	if flags&PropUserID != 0 {
		p.UserID = r.shortstr()
	}
	if flags&PropAppID != 0 {
		p.AppID = r.shortstr()
	}
	if flags&PropClusterID != 0 {
		p.ClusterID = r.shortstr()
	}
	switch {
	case r.err != nil:
		return Properties{}, propsErr("headers: %s", r.err.Text)
	case r.off > len(raw):
		return Properties{}, propsErr("end early")
	case r.off < len(raw):
		return Properties{}, propsErr("%d unexpected bytes after the properties", len(raw)-r.off)
	}
	return p, nil
}

// AppendProperties appends p's flags word and property list, the rawProps
// of a content header. Like Method.AppendArgs it cannot fail: long strings
// are cut to 255 bytes and headers AppendTable rejects are sent empty;
// p.Validate reports both.
func AppendProperties(dst []byte, p *Properties) []byte {
	var flags uint16
	set := func(present bool, f uint16) {
		if present {
			flags |= f
		}
	}
	set(p.ContentType != "", PropContentType)
	set(p.ContentEncoding != "", PropContentEncoding)
	set(p.Headers != nil, PropHeaders)
	set(p.DeliveryMode != 0, PropDeliveryMode)
	set(p.Priority != 0, PropPriority)
	set(p.CorrelationID != "", PropCorrelationID)
	set(p.ReplyTo != "", PropReplyTo)
	set(p.Expiration != "", PropExpiration)
	set(p.MessageID != "", PropMessageID)
	set(p.Timestamp != 0, PropTimestamp)
	set(p.Type != "", PropType)
	set(p.UserID != "", PropUserID)
	set(p.AppID != "", PropAppID)
	set(p.ClusterID != "", PropClusterID)

	dst = appendShort(dst, flags)
	str := func(f uint16, s string) {
		if flags&f != 0 {
			dst = appendShortstr(dst, s)
		}
	}
	str(PropContentType, p.ContentType)
	str(PropContentEncoding, p.ContentEncoding)
	if flags&PropHeaders != 0 {
		dst = appendTableArg(dst, p.Headers)
	}
	if flags&PropDeliveryMode != 0 {
		dst = append(dst, p.DeliveryMode)
	}
	if flags&PropPriority != 0 {
		dst = append(dst, p.Priority)
	}
	str(PropCorrelationID, p.CorrelationID)
	str(PropReplyTo, p.ReplyTo)
	str(PropExpiration, p.Expiration)
	str(PropMessageID, p.MessageID)
	if flags&PropTimestamp != 0 {
		dst = appendLonglong(dst, p.Timestamp)
	}
	str(PropType, p.Type)
	str(PropUserID, p.UserID)
	str(PropAppID, p.AppID)
	str(PropClusterID, p.ClusterID)
	return dst
}

// Validate reports what AppendProperties would have to truncate or drop.
func (p *Properties) Validate() error {
	for _, s := range [...]struct {
		name, v string
	}{
		{"content-type", p.ContentType}, {"content-encoding", p.ContentEncoding},
		{"correlation-id", p.CorrelationID}, {"reply-to", p.ReplyTo},
		{"expiration", p.Expiration}, {"message-id", p.MessageID}, {"type", p.Type},
		{"user-id", p.UserID}, {"app-id", p.AppID}, {"cluster-id", p.ClusterID},
	} {
		if len(s.v) > maxShortstr {
			return propsErr("%s is %d bytes, a shortstr holds at most 255", s.name, len(s.v))
		}
	}
	if err := checkTable(p.Headers, 0); err != nil {
		return propsErr("headers: %s", err.Text)
	}
	return nil
}
