package amqp10_test

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/amqp"
	"github.com/warrenmq/warren/frame"
	"github.com/warrenmq/warren/frame/amqp10"
)

func TestRoundTrip091(t *testing.T) {
	p := frame.Properties{
		ContentType: "text/plain", ContentEncoding: "gzip", DeliveryMode: 2, Priority: 7,
		CorrelationID: "corr", ReplyTo: "rt", Expiration: "60000", MessageID: "m-1",
		Timestamp: 1700000000, Type: "kind", UserID: "guest", AppID: "app", ClusterID: "c",
		Headers: frame.Table{
			"s": "str", "i": int32(-5), "l": int64(1 << 40), "b": true, "u8": uint8(3),
			"f": float64(1.5), "x": []byte{1, 2}, "d": frame.Decimal{Scale: 2, Value: 12345},
			"t": time.Unix(1700000000, 0).UTC(), "a": []any{"x", int32(1)},
			"n": frame.Table{"k": "v"},
		},
	}
	body := []byte("hello")
	enc := amqp10.FromAMQP091(nil, &p, "ex", "rk", body)
	var got frame.Properties
	d, err := amqp10.ToAMQP091(enc, &got)
	if err != nil {
		t.Fatal(err)
	}
	if d.Exchange != "ex" || d.RoutingKey != "rk" || !bytes.Equal(d.Body, body) {
		t.Fatalf("delivery %+v", d)
	}
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("properties differ:\n got %#v\nwant %#v", got, p)
	}
	// A transient message keeps delivery mode 1.
	p2 := frame.Properties{DeliveryMode: 1}
	enc = amqp10.FromAMQP091(nil, &p2, "", "q", nil)
	if _, err := amqp10.ToAMQP091(enc, &got); err != nil || got.DeliveryMode != 1 {
		t.Fatalf("mode %d err %v", got.DeliveryMode, err)
	}
}

// The stream client's own encoder: what it writes decodes to the same
// fields, and what we write decodes in the client.
func TestStreamClientInterop(t *testing.T) {
	m := amqp.NewMessage([]byte("payload"))
	m.Properties = &amqp.MessageProperties{MessageID: "id-9", ContentType: "application/json",
		CorrelationID: uint64(42), ReplyTo: "r", CreationTime: time.UnixMilli(1700000000123), Subject: "subj"}
	m.ApplicationProperties = map[string]any{"k": "v", "n": int64(3)}
	m.Annotations = amqp.Annotations{"x-custom": "yes"}
	raw, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var p frame.Properties
	d, err := amqp10.ToAMQP091(raw, &p)
	if err != nil {
		t.Fatal(err)
	}
	if string(d.Body) != "payload" || p.MessageID != "id-9" || p.ContentType != "application/json" ||
		p.CorrelationID != "42" || p.ReplyTo != "r" || p.Timestamp != 1700000000 || p.Type != "subj" ||
		p.Headers["k"] != "v" || p.Headers["n"] != int64(3) || p.Headers["x-custom"] != "yes" {
		t.Fatalf("got %+v body %q", p, d.Body)
	}

	p = frame.Properties{MessageID: "abc", ContentType: "text/plain", DeliveryMode: 2,
		Headers: frame.Table{"h": "w"}, Timestamp: 1700000000}
	enc := amqp10.FromAMQP091(nil, &p, "", "q", []byte("back"))
	var cm amqp.Message
	if err := cm.UnmarshalBinary(enc); err != nil {
		t.Fatal(err)
	}
	if string(cm.GetData()) != "back" || cm.Properties.MessageID != "abc" || cm.Properties.ContentType != "text/plain" ||
		cm.ApplicationProperties["h"] != "w" || !cm.Header.Durable || cm.Properties.CreationTime.Unix() != 1700000000 {
		t.Fatalf("client decoded %+v %+v %+v", cm.Properties, cm.ApplicationProperties, cm.Header)
	}
}

func TestMessageAppendDecode(t *testing.T) {
	m := amqp10.Message{
		Header:             &amqp10.Header{Durable: true, Priority: 4, HasPriority: true, TTL: 1000, HasTTL: true},
		MessageAnnotations: []amqp10.KV{{amqp10.Symbol("x-a"), uint64(1)}},
		Properties:         &amqp10.Properties{MessageID: amqp10.UUID{1, 2}, GroupSequence: 9, HasCreationTime: true, CreationTime: 5},
		Value:              []any{"a", int32(300), nil, amqp10.Decimal{Coefficient: -12, Exponent: -1}},
		HasValue:           true,
		Footer:             []amqp10.KV{{"f", false}},
	}
	b, err := m.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := amqp10.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Header, m.Header) || !reflect.DeepEqual(got.Properties, m.Properties) ||
		!reflect.DeepEqual(got.Value, m.Value) || !reflect.DeepEqual(got.Footer, m.Footer) ||
		!reflect.DeepEqual(got.MessageAnnotations, m.MessageAnnotations) {
		t.Fatalf("got %+v", got)
	}
	if b := amqp10.AppendData(nil, []byte("z")); !bytes.Equal(b, []byte{0, 0x53, 0x75, 0xa0, 1, 'z'}) {
		t.Fatalf("data %x", b)
	}
}

func TestMalformed(t *testing.T) {
	for _, b := range [][]byte{
		{0x00}, {0x00, 0x53}, {0x00, 0x53, 0x75, 0xb0, 0xff, 0xff, 0xff, 0xff},
		{0x00, 0x53, 0x74, 0xc1, 0x02, 0x01, 0xa1}, {0x40},
		{0x00, 0x53, 0x77, 0xf0, 0, 0, 0, 8, 0, 0, 0, 1, 0x00, 0x00},
		{0x00, 0x53, 0x99, 0x40},
	} {
		if _, err := amqp10.Decode(b); err == nil {
			t.Errorf("%x: no error", b)
		}
	}
}

func FuzzDecode(f *testing.F) {
	m := amqp.NewMessage([]byte("seed"))
	m.Properties = &amqp.MessageProperties{MessageID: "x"}
	m.ApplicationProperties = map[string]any{"k": []any{int32(1), "two"}}
	raw, _ := m.MarshalBinary()
	f.Add(raw)
	f.Add(amqp10.FromAMQP091(nil, &frame.Properties{Headers: frame.Table{"a": frame.Table{"b": []any{1}}}}, "e", "k", []byte("b")))
	f.Add([]byte{0x00, 0x53, 0x77, 0xe0, 0x05, 0x02, 0x71, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p frame.Properties
		if _, err := amqp10.ToAMQP091(b, &p); err != nil {
			return
		}
		msg, err := amqp10.Decode(b)
		if err != nil {
			t.Fatalf("ToAMQP091 accepted what Decode refuses: %v", err)
		}
		if _, err := msg.Append(nil); err != nil {
			t.Logf("re-encode: %v", err)
		}
	})
}
