package frame

import (
	"bytes"
	"testing"
)

// The errors in this file are what RabbitMQ 3.10 sends for the same input
// (netio/wire_integration_test.go checks both brokers on the wire).

// TestMalformedArgumentsAreFrameError: undecodable arguments are 501
// "FRAME_ERROR - cannot decode ..." naming the method, as in RabbitMQ.
func TestMalformedArgumentsAreFrameError(t *testing.T) {
	args := (&QueueDeclare{Queue: "q"}).AppendArgs(nil)
	e := wantCode(t, new(QueueDeclare).Decode(args[:4]), FrameError)
	if got := e.Error(); !bytes.HasPrefix([]byte(got), []byte("FRAME_ERROR - cannot decode queue.declare")) {
		t.Errorf("text %q", got)
	}
	if e.ClassID != 50 || e.MethodID != 10 {
		t.Errorf("class/method %d.%d, want 50.10", e.ClassID, e.MethodID)
	}
}

// TestShortstrNotUTF8: a shortstr that is not UTF-8 in a method without
// content is 501 "Malformed UTF-8 in shortstr" with class and method 0;
// the content methods carry exchange and routing key bytes unchecked.
func TestShortstrNotUTF8(t *testing.T) {
	for _, m := range []Method{
		&QueueDeclare{Queue: "q\xff"},
		&QueueBind{Queue: "q", Exchange: "amq.direct", RoutingKey: "k\xfe"},
		&ExchangeDeclare{Exchange: "x", Type: "dir\xff"},
		&BasicConsume{Queue: "q", ConsumerTag: "t\xc0"},
		&ChannelOpen{Reserved1: "\xff"},
		&ConnectionOpen{VirtualHost: "\xed\xa0\x80"}, // an encoded surrogate
	} {
		got, _ := NewMethod(m.ID())
		e := wantCode(t, got.Decode(m.AppendArgs(nil)), FrameError)
		if e.Error() != "FRAME_ERROR - Malformed UTF-8 in shortstr" || e.ClassID != 0 || e.MethodID != 0 {
			t.Errorf("%s: %q class/method %d.%d", m.Name(), e.Error(), e.ClassID, e.MethodID)
		}
	}
	// A layout error wins over the encoding, as in RabbitMQ.
	args := (&QueueDeclare{Queue: "q\xff"}).AppendArgs(nil)
	e := wantCode(t, new(QueueDeclare).Decode(args[:5]), FrameError)
	if e.ClassID != 50 {
		t.Errorf("short and not UTF-8: %+v", e)
	}
	// UTF-8 beyond ASCII is fine.
	if err := new(QueueDeclare).Decode((&QueueDeclare{Queue: "очередь-✓"}).AppendArgs(nil)); err != nil {
		t.Errorf("UTF-8 name refused: %v", err)
	}
	for _, m := range []Method{
		&BasicPublish{Exchange: "x\xff", RoutingKey: "rk\xff"},
		&BasicDeliver{ConsumerTag: "c", Exchange: "x\xff", RoutingKey: "rk\xff"},
		&BasicReturn{ReplyText: "NO_ROUTE", Exchange: "x", RoutingKey: "rk\xff"},
		&BasicGetOk{Exchange: "x", RoutingKey: "rk\xff"},
	} {
		got, _ := NewMethod(m.ID())
		if err := got.Decode(m.AppendArgs(nil)); err != nil {
			t.Errorf("%s with non-UTF-8 names: %v", m.Name(), err)
		}
	}
	x, rk, _, _, err := DecodePublishView((&BasicPublish{Exchange: "x\xff", RoutingKey: "rk\xfe"}).AppendArgs(nil))
	if err != nil || string(x) != "x\xff" || string(rk) != "rk\xfe" {
		t.Errorf("DecodePublishView: %q %q %v", x, rk, err)
	}
}

// TestHeartbeatWithPayload: RabbitMQ knows a heartbeat only as the empty
// frame; one with a payload is 501.
func TestHeartbeatWithPayload(t *testing.T) {
	stream := AppendFrame(nil, FrameHeartbeat, 0, []byte{1, 2, 3})
	stream = AppendHeartbeat(stream)
	_, n, err := Parse(stream, 0)
	e := wantCode(t, err, FrameError)
	if e.Error() != "FRAME_ERROR - heartbeat frame with a 3-byte payload" {
		t.Errorf("text %q", e.Error())
	}
	// The frame is well delimited: the stream goes on after it.
	if n != 11 {
		t.Fatalf("n %d, want the 11 bytes of the bad frame", n)
	}
	if f, _, err := Parse(stream[n:], 0); err != nil || f.Type != FrameHeartbeat {
		t.Errorf("frame after it: %+v %v", f, err)
	}
	// On another channel it still parses; the connection refuses it (505).
	if f, n, err := Parse(AppendFrame(nil, FrameHeartbeat, 1, nil), 0); err != nil || n != 8 || f.Channel != 1 {
		t.Errorf("empty heartbeat on channel 1: %+v %d %v", f, n, err)
	}
}

func TestWithMethod(t *testing.T) {
	e := Errorf(NotImplemented, "immediate=true").WithMethod(IDBasicPublish)
	if e.ClassID != 60 || e.MethodID != 40 {
		t.Errorf("%+v", e)
	}
}
