package amqp10

import (
	"math"
	"strconv"
	"time"

	"github.com/warrenmq/warren/frame"
)

// Message annotation keys carrying what AMQP 1.0 has no field for, as
// RabbitMQ names them.
const (
	AnnotationExchange   = "x-exchange"
	AnnotationRoutingKey = "x-routing-key"
	annExpiration        = "x-basic-expiration"
	annType              = "x-basic-type"
	annAppID             = "x-basic-app-id"
	annClusterID         = "x-basic-cluster-id"
	annDeliveryMode      = "x-basic-delivery-mode"
)

// FromAMQP091 appends the AMQP 1.0 encoding of a 0-9-1 message to dst, the
// mapping RabbitMQ uses when a 0-9-1 publish lands in a stream:
// delivery-mode 2 and priority go to the header, message-id, user-id,
// reply-to, correlation-id, content-type, content-encoding and timestamp
// (seconds, as creation-time in ms) to the properties, headers to the
// application properties, exchange, routing key, expiration, type, app-id
// and cluster-id to message annotations, and the body to one data section.
// Header values of a type AMQP 1.0 cannot carry are dropped.
func FromAMQP091(dst []byte, p *frame.Properties, exchange, routingKey string, body []byte) []byte {
	m := Message{}
	if p == nil {
		p = &frame.Properties{}
	}
	if p.DeliveryMode != 0 || p.Priority != 0 {
		m.Header = &Header{Durable: p.DeliveryMode == 2, Priority: p.Priority, HasPriority: p.Priority != 0}
	}
	ann := []KV{{Symbol(AnnotationExchange), exchange}, {Symbol(AnnotationRoutingKey), routingKey}}
	if p.DeliveryMode != 0 && p.DeliveryMode != 2 {
		ann = append(ann, KV{Symbol(annDeliveryMode), p.DeliveryMode})
	}
	for _, a := range [...]struct{ k, v string }{
		{annExpiration, p.Expiration}, {annType, p.Type}, {annAppID, p.AppID}, {annClusterID, p.ClusterID},
	} {
		if a.v != "" {
			ann = append(ann, KV{Symbol(a.k), a.v})
		}
	}
	m.MessageAnnotations = ann
	pr := Properties{
		ReplyTo:         p.ReplyTo,
		ContentType:     p.ContentType,
		ContentEncoding: p.ContentEncoding,
	}
	if p.MessageID != "" {
		pr.MessageID = p.MessageID
	}
	if p.CorrelationID != "" {
		pr.CorrelationID = p.CorrelationID
	}
	if p.UserID != "" {
		pr.UserID = []byte(p.UserID)
	}
	if p.Timestamp != 0 && p.Timestamp <= math.MaxInt64/1000 {
		pr.CreationTime, pr.HasCreationTime = int64(p.Timestamp)*1000, true
	}
	if pr.MessageID != nil || pr.UserID != nil || pr.ReplyTo != "" || pr.CorrelationID != nil ||
		pr.ContentType != "" || pr.ContentEncoding != "" || pr.HasCreationTime {
		m.Properties = &pr
	}
	if len(p.Headers) > 0 {
		ap := make([]KV, 0, len(p.Headers))
		for _, k := range sortedKeys(p.Headers) {
			if v, ok := fromTableValue(p.Headers[k], 0); ok {
				ap = append(ap, KV{k, v})
			}
		}
		m.ApplicationProperties = ap
	}
	m.Data = [][]byte{body}
	out, err := m.Append(dst)
	if err != nil {
		// Not reached: every header value was converted to an encodable
		// one above. Should it happen, the headers are what is dropped.
		m.ApplicationProperties = nil
		out, _ = m.Append(dst)
	}
	return out
}

func fromTableValue(v any, depth int) (any, bool) {
	if depth > maxDepth {
		return nil, false
	}
	switch x := v.(type) {
	case nil, bool, int8, uint8, int16, uint16, int32, uint32, int64, float32, float64, string, []byte:
		return x, true
	case int:
		return int64(x), true
	case time.Time:
		return x, true
	case frame.Decimal:
		return Decimal{Coefficient: int64(x.Value), Exponent: -int32(x.Scale)}, true
	case []any:
		return convertList(x, depth, fromTableValue), true
	case frame.Table:
		return fromTable(x, depth+1), true
	case map[string]any:
		return fromTable(x, depth+1), true
	}
	return nil, false
}

func fromTable(t map[string]any, depth int) []KV {
	m := make([]KV, 0, len(t))
	for _, k := range sortedKeys(t) {
		if c, ok := fromTableValue(t[k], depth); ok {
			m = append(m, KV{k, c})
		}
	}
	return m
}

// Delivery091 is an AMQP 1.0 message seen as 0-9-1: the exchange and
// routing key it was published with (empty when it came from a stream
// client) and its body.
type Delivery091 struct {
	Exchange   string
	RoutingKey string
	Body       []byte
}

// ToAMQP091 decodes an AMQP 1.0 message into 0-9-1 properties (written
// into *p) and body. The inverse of FromAMQP091, and for messages a stream
// client wrote: properties map to their 0-9-1 fields, application
// properties to headers, other x- message annotations to headers too. The
// body is the data sections (a view into msg when there is one), else an
// amqp-value holding binary or a string, else the encoded body sections.
func ToAMQP091(msg []byte, p *frame.Properties) (Delivery091, error) {
	var out Delivery091
	m, err := Decode(msg)
	if err != nil {
		return out, err
	}
	*p = frame.Properties{}
	if h := m.Header; h != nil {
		p.DeliveryMode = 1
		if h.Durable {
			p.DeliveryMode = 2
		}
		if h.HasPriority {
			p.Priority = h.Priority
		}
		if h.HasTTL {
			p.Expiration = strconv.FormatUint(uint64(h.TTL), 10)
		}
	}
	if pr := m.Properties; pr != nil {
		p.MessageID = str(pr.MessageID)
		p.CorrelationID = str(pr.CorrelationID)
		p.UserID = string(pr.UserID)
		p.ReplyTo = pr.ReplyTo
		p.ContentType = pr.ContentType
		p.ContentEncoding = pr.ContentEncoding
		if pr.HasCreationTime && pr.CreationTime > 0 {
			p.Timestamp = uint64(pr.CreationTime / 1000)
		}
		if pr.Subject != "" {
			p.Type = pr.Subject
		}
	}
	var headers frame.Table
	setHeader := func(k string, v any) {
		if headers == nil {
			headers = frame.Table{}
		}
		headers[k] = v
	}
	for _, kv := range m.MessageAnnotations {
		k := str(kv.Key)
		switch k {
		case AnnotationExchange:
			out.Exchange = str(kv.Value)
		case AnnotationRoutingKey:
			out.RoutingKey = str(kv.Value)
		case annExpiration:
			p.Expiration = str(kv.Value)
		case annType:
			p.Type = str(kv.Value)
		case annAppID:
			p.AppID = str(kv.Value)
		case annClusterID:
			p.ClusterID = str(kv.Value)
		case annDeliveryMode:
			if d, ok := kv.Value.(uint8); ok {
				p.DeliveryMode = d
			}
		default:
			if len(k) > 2 && k[:2] == "x-" {
				if v, ok := toTableValue(kv.Value, 0); ok {
					setHeader(k, v)
				}
			}
		}
	}
	for _, kv := range m.ApplicationProperties {
		k := str(kv.Key)
		if k == "" {
			continue
		}
		if v, ok := toTableValue(kv.Value, 0); ok {
			setHeader(k, v)
		}
	}
	p.Headers = headers
	switch {
	case len(m.Data) == 1:
		out.Body = m.Data[0]
	case len(m.Data) > 1:
		n := 0
		for _, d := range m.Data {
			n += len(d)
		}
		out.Body = make([]byte, 0, n)
		for _, d := range m.Data {
			out.Body = append(out.Body, d...)
		}
	case m.HasValue:
		switch v := m.Value.(type) {
		case []byte:
			out.Body = v
		case string:
			out.Body = []byte(v)
		default:
			out.Body, _ = AppendValue(AppendDescriptor(nil, DescAmqpValue), m.Value)
		}
	case m.Sequence != nil:
		out.Body, _ = AppendValue(AppendDescriptor(nil, DescAmqpSequence), m.Sequence)
	}
	if out.Body == nil {
		out.Body = []byte{}
	}
	return out, nil
}

func toTableValue(v any, depth int) (any, bool) {
	if depth > maxDepth {
		return nil, false
	}
	switch x := v.(type) {
	case nil, bool, int8, uint8, int16, uint16, int32, uint32, int64, float32, float64, string:
		return x, true
	case []byte:
		return x, true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
		return strconv.FormatUint(x, 10), true
	case Symbol:
		return string(x), true
	case Char:
		return string(rune(x)), true
	case UUID:
		return x.String(), true
	case time.Time:
		return x.Truncate(time.Second).UTC(), true
	case Decimal:
		if x.Raw == nil && x.Exponent <= 0 && x.Exponent >= -255 && x.Coefficient >= math.MinInt32 && x.Coefficient <= math.MaxInt32 {
			return frame.Decimal{Scale: uint8(-x.Exponent), Value: int32(x.Coefficient)}, true
		}
		return nil, false
	case []any:
		return convertList(x, depth, toTableValue), true
	case []KV:
		t := frame.Table{}
		for _, kv := range x {
			if k := str(kv.Key); k != "" {
				if c, ok := toTableValue(kv.Value, depth+1); ok {
					t[k] = c
				}
			}
		}
		return t, true
	case Described:
		return toTableValue(x.Value, depth+1)
	}
	return nil, false
}

// convertList converts a list's elements one level deeper, dropping those
// the other side has no type for (either direction).
func convertList(x []any, depth int, conv func(any, int) (any, bool)) []any {
	l := make([]any, 0, len(x))
	for _, e := range x {
		if c, ok := conv(e, depth+1); ok {
			l = append(l, c)
		}
	}
	return l
}
