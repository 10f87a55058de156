package frame

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// The hand-written appenders must produce exactly what the generated
// encoder does for the same method.
func TestHotPathMatchesGenerated(t *testing.T) {
	r := newRand(t)
	for range 200 {
		var d BasicDeliver
		fillRandom(r, &d)
		got := AppendBasicDeliver(nil, 9, d.ConsumerTag, d.DeliveryTag, d.Redelivered, []byte(d.Exchange), []byte(d.RoutingKey))
		if want := AppendMethodFrame(nil, 9, &d); !bytes.Equal(got, want) {
			t.Fatalf("deliver\n got %x\nwant %x", got, want)
		}

		var g BasicGetOk
		fillRandom(r, &g)
		got = AppendBasicGetOk(nil, 9, g.DeliveryTag, g.Redelivered, []byte(g.Exchange), []byte(g.RoutingKey), g.MessageCount)
		if want := AppendMethodFrame(nil, 9, &g); !bytes.Equal(got, want) {
			t.Fatalf("get-ok\n got %x\nwant %x", got, want)
		}

		var rt BasicReturn
		fillRandom(r, &rt)
		got = AppendBasicReturn(nil, 9, rt.ReplyCode, rt.ReplyText, []byte(rt.Exchange), []byte(rt.RoutingKey))
		if want := AppendMethodFrame(nil, 9, &rt); !bytes.Equal(got, want) {
			t.Fatalf("return\n got %x\nwant %x", got, want)
		}

		var a BasicAck
		fillRandom(r, &a)
		if got, want := AppendBasicAck(nil, 9, a.DeliveryTag, a.Multiple), AppendMethodFrame(nil, 9, &a); !bytes.Equal(got, want) {
			t.Fatalf("ack\n got %x\nwant %x", got, want)
		}

		var n BasicNack
		fillRandom(r, &n)
		if got, want := AppendBasicNack(nil, 9, n.DeliveryTag, n.Multiple, n.Requeue), AppendMethodFrame(nil, 9, &n); !bytes.Equal(got, want) {
			t.Fatalf("nack\n got %x\nwant %x", got, want)
		}

		var p BasicPublish
		fillRandom(r, &p)
		args := p.AppendArgs(nil)
		ex, rk, mand, imm, err := DecodePublishView(args)
		if err != nil || string(ex) != p.Exchange || string(rk) != p.RoutingKey || mand != p.Mandatory || imm != p.Immediate {
			t.Fatalf("DecodePublishView = %q %q %v %v %v, want %+v", ex, rk, mand, imm, err, p)
		}
		if cap(ex) != len(ex) || cap(rk) != len(rk) {
			t.Fatal("views not capped")
		}
		for i := range len(args) {
			e := wantCode(t, fifth(DecodePublishView(args[:i])), FrameError)
			if e.ClassID != ClassBasic || e.MethodID != 40 {
				t.Fatalf("publish cut to %d: %+v", i, e)
			}
		}
		wantCode(t, fifth(DecodePublishView(append(args, 0))), FrameError)
	}
}

func fifth[A, B, C, D any](_ A, _ B, _ C, _ D, err error) error { return err }

func TestHotPathTruncates(t *testing.T) {
	long := strings.Repeat("k", 300)
	wire := AppendBasicDeliver(nil, 1, long, 1, false, []byte(long), []byte(long))
	f, _, err := Parse(wire, 0)
	if err != nil {
		t.Fatal(err)
	}
	m, err := DecodeMethod(f.Payload)
	if err != nil {
		t.Fatal(err)
	}
	want := &BasicDeliver{ConsumerTag: long[:255], DeliveryTag: 1, Exchange: long[:255], RoutingKey: long[:255]}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %+v", m)
	}
}
