package amqp10

import (
	"slices"
	"strconv"
	"time"
)

// Header is the header section.
type Header struct {
	Durable       bool
	Priority      uint8
	HasPriority   bool
	TTL           uint32 // ms; HasTTL says it was there
	HasTTL        bool
	FirstAcquirer bool
	DeliveryCount uint32
}

// Properties is the properties section. Absent fields are zero; the Has*
// flags tell a zero timestamp from none.
type Properties struct {
	MessageID          any // string, uint64, UUID or []byte
	UserID             []byte
	To                 string
	Subject            string
	ReplyTo            string
	CorrelationID      any
	ContentType        string
	ContentEncoding    string
	AbsoluteExpiryTime int64 // ms
	HasAbsoluteExpiry  bool
	CreationTime       int64 // ms
	HasCreationTime    bool
	GroupID            string
	GroupSequence      uint32
	ReplyToGroupID     string
}

// Message is a decoded AMQP 1.0 message. Data holds the data sections as
// views into the input; Value the amqp-value section, Sequence the
// amqp-sequence sections' lists concatenated.
type Message struct {
	Header                *Header
	DeliveryAnnotations   []KV
	MessageAnnotations    []KV
	Properties            *Properties
	ApplicationProperties []KV
	Data                  [][]byte
	Value                 any
	HasValue              bool
	Sequence              []any
	Footer                []KV
}

// Decode parses a whole message (a sequence of sections).
func Decode(b []byte) (*Message, error) {
	m := &Message{}
	d := decoder{b: b}
	for len(d.b) > 0 {
		c, err := d.u8()
		if err != nil {
			return nil, err
		}
		if c != codeDescribed {
			return nil, malformed("section is not a described value (0x%02x)", c)
		}
		desc, err := d.value()
		if err != nil {
			return nil, err
		}
		var code uint64
		switch x := desc.(type) {
		case uint64:
			code = x
		case Symbol:
			code = sectionBySymbol(string(x))
		default:
			return nil, malformed("section descriptor %T", desc)
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		if err := m.setSection(code, v); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func sectionBySymbol(s string) uint64 {
	switch s {
	case "amqp:header:list":
		return DescHeader
	case "amqp:delivery-annotations:map":
		return DescDeliveryAnnotations
	case "amqp:message-annotations:map":
		return DescMessageAnnotations
	case "amqp:properties:list":
		return DescProperties
	case "amqp:application-properties:map":
		return DescApplicationProperties
	case "amqp:data:binary":
		return DescData
	case "amqp:amqp-sequence:list":
		return DescAmqpSequence
	case "amqp:amqp-value:*":
		return DescAmqpValue
	case "amqp:footer:map":
		return DescFooter
	}
	return 0
}

func asMap(v any) ([]KV, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []KV:
		return x, nil
	}
	return nil, malformed("map section holds %T", v)
}

func asList(v any) ([]any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		return x, nil
	}
	return nil, malformed("list section holds %T", v)
}

func (m *Message) setSection(code uint64, v any) error {
	var err error
	switch code {
	case DescHeader:
		l, err := asList(v)
		if err != nil {
			return err
		}
		h := &Header{}
		for i, f := range l {
			switch x := f.(type) {
			case bool:
				switch i {
				case 0:
					h.Durable = x
				case 3:
					h.FirstAcquirer = x
				}
			case uint8:
				if i == 1 {
					h.Priority, h.HasPriority = x, true
				}
			case uint32:
				switch i {
				case 2:
					h.TTL, h.HasTTL = x, true
				case 4:
					h.DeliveryCount = x
				}
			}
		}
		m.Header = h
	case DescDeliveryAnnotations:
		m.DeliveryAnnotations, err = asMap(v)
	case DescMessageAnnotations:
		m.MessageAnnotations, err = asMap(v)
	case DescApplicationProperties:
		m.ApplicationProperties, err = asMap(v)
	case DescFooter:
		m.Footer, err = asMap(v)
	case DescProperties:
		l, err := asList(v)
		if err != nil {
			return err
		}
		p := &Properties{}
		for i, f := range l {
			if f == nil {
				continue
			}
			switch i {
			case 0:
				p.MessageID = f
			case 1:
				p.UserID, _ = f.([]byte)
			case 2:
				p.To = str(f)
			case 3:
				p.Subject = str(f)
			case 4:
				p.ReplyTo = str(f)
			case 5:
				p.CorrelationID = f
			case 6:
				p.ContentType = str(f)
			case 7:
				p.ContentEncoding = str(f)
			case 8:
				if t, ok := f.(time.Time); ok {
					p.AbsoluteExpiryTime, p.HasAbsoluteExpiry = t.UnixMilli(), true
				}
			case 9:
				if t, ok := f.(time.Time); ok {
					p.CreationTime, p.HasCreationTime = t.UnixMilli(), true
				}
			case 10:
				p.GroupID = str(f)
			case 11:
				p.GroupSequence, _ = f.(uint32)
			case 12:
				p.ReplyToGroupID = str(f)
			}
		}
		m.Properties = p
	case DescData:
		b, ok := v.([]byte)
		if !ok {
			return malformed("data section holds %T", v)
		}
		m.Data = append(m.Data, b)
	case DescAmqpSequence:
		l, err := asList(v)
		if err != nil {
			return err
		}
		m.Sequence = append(m.Sequence, l...)
	case DescAmqpValue:
		m.Value, m.HasValue = v, true
	default:
		return malformed("unknown section 0x%x", code)
	}
	return err
}

// str renders a string-like value (string, symbol, number, uuid, binary)
// as a string.
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case Symbol:
		return string(x)
	case []byte:
		return string(x)
	case uint64:
		return strconv.FormatUint(x, 10)
	case UUID:
		return x.String()
	}
	return ""
}

// Append encodes m after b: header, annotations, properties, application
// properties, body (data sections, else an amqp-value, else amqp-sequence),
// footer.
func (m *Message) Append(b []byte) ([]byte, error) {
	var err error
	if h := m.Header; h != nil {
		b = AppendDescriptor(b, DescHeader)
		var at int
		b, at = beginCompound(b, codeList32)
		b = AppendBool(b, h.Durable)
		if h.HasPriority {
			b = append(b, codeUbyte, h.Priority)
		} else {
			b = AppendNull(b)
		}
		if h.HasTTL {
			b = AppendUint(b, h.TTL)
		} else {
			b = AppendNull(b)
		}
		b = AppendBool(b, h.FirstAcquirer)
		b = AppendUint(b, h.DeliveryCount)
		b = endCompound(b, at, 5)
	}
	for _, s := range [...]struct {
		code byte
		m    []KV
	}{{DescDeliveryAnnotations, m.DeliveryAnnotations}, {DescMessageAnnotations, m.MessageAnnotations}} {
		if s.m != nil {
			b = AppendDescriptor(b, s.code)
			if b, err = AppendValue(b, s.m); err != nil {
				return b, err
			}
		}
	}
	if p := m.Properties; p != nil {
		b = AppendDescriptor(b, DescProperties)
		var at int
		b, at = beginCompound(b, codeList32)
		optStr := func(s string) {
			if s == "" {
				b = AppendNull(b)
			} else {
				b = AppendString(b, s)
			}
		}
		optSym := func(s string) {
			if s == "" {
				b = AppendNull(b)
			} else {
				b = AppendSymbol(b, s)
			}
		}
		if b, err = AppendValue(b, p.MessageID); err != nil {
			return b, err
		}
		if p.UserID == nil {
			b = AppendNull(b)
		} else {
			b = AppendBinary(b, p.UserID)
		}
		optStr(p.To)
		optStr(p.Subject)
		optStr(p.ReplyTo)
		if b, err = AppendValue(b, p.CorrelationID); err != nil {
			return b, err
		}
		optSym(p.ContentType)
		optSym(p.ContentEncoding)
		if p.HasAbsoluteExpiry {
			b = AppendTimestamp(b, p.AbsoluteExpiryTime)
		} else {
			b = AppendNull(b)
		}
		if p.HasCreationTime {
			b = AppendTimestamp(b, p.CreationTime)
		} else {
			b = AppendNull(b)
		}
		optStr(p.GroupID)
		b = AppendUint(b, p.GroupSequence)
		optStr(p.ReplyToGroupID)
		b = endCompound(b, at, 13)
	}
	if m.ApplicationProperties != nil {
		b = AppendDescriptor(b, DescApplicationProperties)
		if b, err = AppendValue(b, m.ApplicationProperties); err != nil {
			return b, err
		}
	}
	switch {
	case len(m.Data) > 0:
		for _, d := range m.Data {
			b = AppendBinary(AppendDescriptor(b, DescData), d)
		}
	case m.HasValue:
		if b, err = AppendValue(AppendDescriptor(b, DescAmqpValue), m.Value); err != nil {
			return b, err
		}
	case m.Sequence != nil:
		if b, err = AppendValue(AppendDescriptor(b, DescAmqpSequence), m.Sequence); err != nil {
			return b, err
		}
	}
	if m.Footer != nil {
		b = AppendDescriptor(b, DescFooter)
		if b, err = AppendValue(b, m.Footer); err != nil {
			return b, err
		}
	}
	return b, nil
}

// AppendData appends body as one data section: the smallest message, the
// one a stream client writes for a plain payload.
func AppendData(b, body []byte) []byte {
	return AppendBinary(AppendDescriptor(b, DescData), body)
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
