package frame

import (
	"testing"
	"time"
)

var (
	sinkBytes []byte
	sinkTable Table
	sinkBool  bool
)

// BenchmarkDecodePublish is the broker's inbound hot path for one message:
// three frames (method, header, body) parsed as views, with the publish
// arguments and the delivery mode read without decoding the rest.
func BenchmarkDecodePublish(b *testing.B) {
	wire := publishFrames(make([]byte, 256))
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		rest := wire
		mf, n, _ := Parse(rest, 131072)
		rest = rest[n:]
		ex, _, mand, _, err := DecodePublishView(mf.Payload[4:])
		hf, n, _ := Parse(rest, 131072)
		rest = rest[n:]
		_, size, raw, _ := ParseContentHeader(hf.Payload)
		persistent := PropsDeliveryMode(raw) == 2
		bf, _, _ := Parse(rest, 131072)
		sinkBytes = ex
		sinkBool = mand || persistent || err != nil || uint64(len(bf.Payload)) != size
	}
}

// BenchmarkEncodeDeliver is the outbound hot path: deliver, content
// header and body into a reused buffer.
func BenchmarkEncodeDeliver(b *testing.B) {
	body := make([]byte, 256)
	p := Properties{ContentType: "application/json", DeliveryMode: 2, Headers: Table{"x-tenant": "acme"}}
	raw := AppendProperties(nil, &p)
	ex, rk := []byte("amq.topic"), []byte("orders.eu.created")
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendBasicDeliver(buf[:0], 1, "amq.ctag-abc", 12345, false, ex, rk)
		buf = AppendContentHeader(buf, 1, ClassBasic, uint64(len(body)), raw)
		buf = AppendBody(buf, 1, body, 131072)
	}
	sinkBytes = buf
}

// clientProperties is a table like the one every client sends in start-ok.
func clientProperties() Table {
	return Table{
		"product": "Amqp 0.9.1 client", "version": "β", "platform": "golang",
		"connection_name": "orders-service-7f9c", "information": "https://github.com/rabbitmq/amqp091-go",
		"capabilities": Table{
			"connection.blocked": true, "consumer_cancel_notify": true,
			"basic.nack": true, "publisher_confirms": true,
		},
		"x-max-length": int32(100000), "x-message-ttl": int64(60000),
		"x-dead-letter-exchange": "dlx", "created": time.Unix(1700000000, 0).UTC(),
	}
}

func BenchmarkDecodeTable(b *testing.B) {
	enc, _ := AppendTable(nil, clientProperties())
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		sinkTable, _, _ = DecodeTable(enc)
	}
}

func BenchmarkAppendTable(b *testing.B) {
	t := clientProperties()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendTable(buf[:0], t)
	}
	sinkBytes = buf
}

func BenchmarkValidateProperties(b *testing.B) {
	p := fullProperties()
	raw := AppendProperties(nil, &p)
	b.ReportAllocs()
	for b.Loop() {
		sinkBool = ValidateProperties(raw) == nil
	}
}

func BenchmarkDecodeBasicAck(b *testing.B) {
	args := (&BasicAck{DeliveryTag: 1 << 40, Multiple: true}).AppendArgs(nil)
	var m BasicAck
	b.ReportAllocs()
	for b.Loop() {
		sinkBool = m.Decode(args) == nil
	}
}
