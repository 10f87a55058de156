//go:build linux

package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Test messages are a pure function of (seed, seq): the tests remember a
// few bytes per message and regenerate the body and every property to
// compare a delivery with what was sent. MessageId carries seq.

// genBodySize draws a body size in 0..64 KiB: mostly small, a fifth over
// 8 KiB, some exactly 0 and exactly 64 KiB.
func genBodySize(r *rand.Rand) int {
	switch x := r.IntN(100); {
	case x < 5:
		return 0
	case x < 55:
		return 1 + r.IntN(1024)
	case x < 78:
		return 1024 + r.IntN(7*1024+1)
	case x < 80:
		return 64 << 10
	default:
		return 8<<10 + 1 + r.IntN(56<<10)
	}
}

var (
	contentTypes     = []string{"application/octet-stream", "text/plain; charset=utf-8", "application/json"}
	contentEncodings = []string{"identity", "gzip", "utf-8"}
)

// genPublishing returns the seq-th message of the run seeded by seed, with
// every property amqp091-go can send set, and a headers table holding every
// field type.
func genPublishing(seed, seq uint64) amqp.Publishing {
	r := rand.New(rand.NewPCG(seed, seq))
	body := make([]byte, genBodySize(r))
	var w [8]byte
	for i := 0; i < len(body); i += 8 {
		binary.LittleEndian.PutUint64(w[:], r.Uint64())
		copy(body[i:], w[:])
	}
	str := make([]byte, r.IntN(200))
	for i := range str {
		str[i] = byte('a' + r.IntN(26))
	}
	raw := make([]byte, 1+r.IntN(32))
	for i := range raw {
		raw[i] = byte(r.Uint32())
	}
	ts := time.Unix(1_700_000_000+int64(seq), 0)
	return amqp.Publishing{
		Headers: amqp.Table{
			"seq":    int64(seq),
			"str":    string(str),
			"bool":   r.IntN(2) == 1,
			"u8":     byte(r.Uint32()),
			"i8":     int8(r.Uint32()),
			"i16":    int16(r.Uint32()),
			"u16":    uint16(r.Uint32()),
			"i32":    int32(r.Uint32()),
			"u32":    r.Uint32(),
			"i64":    int64(r.Uint64()),
			"f32":    float32(r.Float64()),
			"f64":    r.NormFloat64(),
			"dec":    amqp.Decimal{Scale: uint8(r.IntN(10)), Value: int32(r.Uint32())},
			"bytes":  raw,
			"ts":     ts,
			"void":   nil,
			"nested": amqp.Table{"k": "v", "n": int32(seq), "deeper": amqp.Table{"x": []any{int64(1), "two", false}}},
			"array":  []any{int32(7), "eight", true, amqp.Table{"a": int8(-1)}, []any(nil)},
		},
		ContentType:     contentTypes[r.IntN(len(contentTypes))],
		ContentEncoding: contentEncodings[r.IntN(len(contentEncodings))],
		DeliveryMode:    amqp.Persistent,
		Priority:        uint8(r.IntN(10)),
		CorrelationId:   fmt.Sprintf("corr-%d-%x", seq, r.Uint32()),
		ReplyTo:         "amq.rabbitmq.reply-to.test",
		Expiration:      "86400000", // a day: nothing expires during a test
		MessageId:       strconv.FormatUint(seq, 10),
		Timestamp:       ts,
		Type:            "warren.test",
		UserId:          "guest", // RabbitMQ refuses a user-id other than the connection's user
		AppId:           "warren-cmd-test",
		Body:            body,
	}
}

// checkDelivery regenerates the message d claims to be (from its MessageId)
// and compares body and properties. It returns seq and "" when they match.
func checkDelivery(seed uint64, d *amqp.Delivery) (uint64, string) {
	seq, err := strconv.ParseUint(d.MessageId, 10, 64)
	if err != nil || seq == 0 {
		return 0, fmt.Sprintf("message-id %q is not one we sent (body %d bytes)", d.MessageId, len(d.Body))
	}
	want := genPublishing(seed, seq)
	var diffs []string
	cmp := func(name string, got, want any) {
		if !reflect.DeepEqual(got, want) {
			diffs = append(diffs, fmt.Sprintf("%s: got %#v, want %#v", name, got, want))
		}
	}
	if !bytes.Equal(d.Body, want.Body) {
		diffs = append(diffs, fmt.Sprintf("body: got %d bytes, want %d (first difference at %d)", len(d.Body), len(want.Body), firstDiff(d.Body, want.Body)))
	}
	cmp("content-type", d.ContentType, want.ContentType)
	cmp("content-encoding", d.ContentEncoding, want.ContentEncoding)
	cmp("delivery-mode", d.DeliveryMode, want.DeliveryMode)
	cmp("priority", d.Priority, want.Priority)
	cmp("correlation-id", d.CorrelationId, want.CorrelationId)
	cmp("reply-to", d.ReplyTo, want.ReplyTo)
	cmp("expiration", d.Expiration, want.Expiration)
	cmp("type", d.Type, want.Type)
	cmp("user-id", d.UserId, want.UserId)
	cmp("app-id", d.AppId, want.AppId)
	if !d.Timestamp.Equal(want.Timestamp) {
		diffs = append(diffs, fmt.Sprintf("timestamp: got %v, want %v", d.Timestamp, want.Timestamp))
	}
	if !reflect.DeepEqual(d.Headers, want.Headers) {
		for k, wv := range want.Headers {
			if gv, ok := d.Headers[k]; !ok || !reflect.DeepEqual(gv, wv) {
				diffs = append(diffs, fmt.Sprintf("header %q: got %#v, want %#v", k, gv, wv))
			}
		}
		for k, gv := range d.Headers {
			if _, ok := want.Headers[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("header %q: unexpected %#v", k, gv))
			}
		}
	}
	if len(diffs) == 0 {
		return seq, ""
	}
	return seq, fmt.Sprintf("message %d differs from what was sent: %s", seq, strings.Join(diffs, "; "))
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
