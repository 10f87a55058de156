package frame

import (
	"testing"
)

// publishFrames is a realistic publish as a client sends it: method,
// content header with a few properties, and a body.
func publishFrames(body []byte) []byte {
	var b []byte
	b = AppendMethodFrame(b, 1, &BasicPublish{Exchange: "amq.topic", RoutingKey: "orders.eu.created"})
	props := Properties{ContentType: "application/json", DeliveryMode: 2, Headers: Table{"x-tenant": "acme"}}
	raw := AppendProperties(nil, &props)
	b = AppendContentHeader(b, 1, ClassBasic, uint64(len(body)), raw)
	return AppendBody(b, 1, body, 131072)
}

func TestZeroAlloc(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters allocate")
	}
	body := make([]byte, 1024)
	wire := publishFrames(body)
	f, _, _ := Parse(wire, 0)
	args := f.Payload[4:]
	_, n, _ := Parse(wire, 0)
	hf, _, _ := Parse(wire[n:], 0)
	_, _, raw, _ := ParseContentHeader(hf.Payload)
	ackArgs := (&BasicAck{DeliveryTag: 42, Multiple: true}).AppendArgs(nil)
	nackArgs := (&BasicNack{DeliveryTag: 42, Requeue: true}).AppendArgs(nil)
	buf := make([]byte, 0, 4096)
	ex, rk := []byte("amq.topic"), []byte("orders.eu.created")
	var ack BasicAck
	var nack BasicNack
	rejArgs := (&BasicReject{DeliveryTag: 42, Requeue: true}).AppendArgs(nil)
	var rej BasicReject

	for name, fn := range map[string]func(){
		"Parse": func() {
			for rest := wire; len(rest) > 0; {
				_, n, err := Parse(rest, 131072)
				if err != nil || n == 0 {
					t.Fatal(n, err)
				}
				rest = rest[n:]
			}
		},
		"MethodID": func() { _, _ = MethodID(f.Payload) },
		"DecodePublishView": func() {
			if _, _, _, _, err := DecodePublishView(args); err != nil {
				t.Fatal(err)
			}
		},
		"ParseContentHeader": func() {
			if _, _, _, err := ParseContentHeader(hf.Payload); err != nil {
				t.Fatal(err)
			}
		},
		"ValidateProperties": func() {
			if err := ValidateProperties(raw); err != nil {
				t.Fatal(err)
			}
		},
		"PropsDeliveryMode": func() {
			if PropsDeliveryMode(raw) != 2 {
				t.Fatal("delivery mode")
			}
		},
		"PropsShortstr": func() { PropsShortstr(raw, PropUserID) },
		"BasicAck.Decode": func() {
			if err := ack.Decode(ackArgs); err != nil {
				t.Fatal(err)
			}
		},
		"BasicReject.Decode": func() {
			if err := rej.Decode(rejArgs); err != nil {
				t.Fatal(err)
			}
		},
		"BasicNack.Decode": func() {
			if err := nack.Decode(nackArgs); err != nil {
				t.Fatal(err)
			}
		},
		"AppendDelivery": func() {
			b := AppendBasicDeliver(buf[:0], 1, "amq.ctag-1", 7, true, ex, rk)
			b = AppendContentHeader(b, 1, ClassBasic, uint64(len(body)), raw)
			b = AppendBody(b, 1, body, 131072)
			_ = b
		},
		"AppendAcks": func() {
			b := AppendBasicAck(buf[:0], 1, 7, false)
			b = AppendBasicNack(b, 1, 7, false, true)
			b = AppendBasicGetOk(b, 1, 7, false, ex, rk, 3)
			b = AppendBasicReturn(b, 1, NoRoute, "NO_ROUTE", ex, rk)
			b = AppendHeartbeat(b)
			_ = b
		},
		"AppendMethodFrame": func() { _ = AppendMethodFrame(buf[:0], 1, &ack) },
	} {
		if a := testing.AllocsPerRun(100, fn); a != 0 {
			t.Errorf("%s: %v allocs per run, want 0", name, a)
		}
	}
}
