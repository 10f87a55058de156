package frame

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
)

func TestMethodTableComplete(t *testing.T) {
	ids := allMethodIDs()
	// 7 classes, 64 methods in the stripped extended spec, with RabbitMQ's
	// extensions; a regenerated file that loses one fails here.
	if len(ids) != 64 {
		t.Fatalf("%d methods, want 64", len(ids))
	}
	for _, id := range []uint32{
		IDExchangeBind, IDExchangeBindOk, IDExchangeUnbind, IDExchangeUnbindOk,
		IDBasicNack, IDConfirmSelect, IDConfirmSelectOk, IDConnectionBlocked,
		IDConnectionUnblocked, IDConnectionUpdateSecret, IDConnectionUpdateSecretOk,
	} {
		m, err := NewMethod(id)
		if err != nil {
			t.Fatalf("NewMethod(%d<<16|%d): %v", id>>16, id&0xffff, err)
		}
		if m.ID() != id || MethodName(id) != m.Name() {
			t.Errorf("%s: ID %x, MethodName %q", m.Name(), m.ID(), MethodName(id))
		}
	}
	for _, id := range ids {
		m, _ := NewMethod(id)
		if want := id == IDBasicPublish || id == IDBasicDeliver || id == IDBasicReturn || id == IDBasicGetOk; m.HasContent() != want {
			t.Errorf("%s.HasContent() = %v", m.Name(), m.HasContent())
		}
	}
}

// TestMethodRoundTrip encodes every method with random field values and
// decodes it back, directly and through a whole frame.
func TestMethodRoundTrip(t *testing.T) {
	r := newRand(t)
	for _, id := range allMethodIDs() {
		for range 50 {
			m, _ := NewMethod(id)
			fillRandom(r, m)
			if err := m.Validate(); err != nil {
				t.Fatalf("%s: Validate: %v", m.Name(), err)
			}
			args := m.AppendArgs(nil)

			got, _ := NewMethod(id)
			if err := got.Decode(args); err != nil {
				t.Fatalf("%s: Decode(%x): %v", m.Name(), args, err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatalf("%s: round trip\n got %#v\nwant %#v", m.Name(), got, m)
			}

			wire := AppendMethodFrame([]byte("junk"), 7, m)[4:]
			f, n, err := Parse(wire, 0)
			if err != nil || n != len(wire) || f.Type != FrameMethod || f.Channel != 7 {
				t.Fatalf("%s: Parse = %+v, %d, %v", m.Name(), f, n, err)
			}
			dm, err := DecodeMethod(f.Payload)
			if err != nil || !reflect.DeepEqual(dm, m) {
				t.Fatalf("%s: DecodeMethod = %#v, %v", m.Name(), dm, err)
			}
		}
	}
}

// TestMethodMalformed cuts every encoded method short and adds a trailing
// byte: both must give 501 naming the method, never a panic.
func TestMethodMalformed(t *testing.T) {
	r := newRand(t)
	for _, id := range allMethodIDs() {
		m, _ := NewMethod(id)
		fillRandom(r, m)
		args := m.AppendArgs(nil)
		for i := range len(args) {
			got, _ := NewMethod(id)
			e := wantCode(t, got.Decode(args[:i]), FrameError)
			if uint32(e.ClassID)<<16|uint32(e.MethodID) != id || !e.Hard() {
				t.Fatalf("%s cut to %d: error %+v", m.Name(), i, e)
			}
		}
		got, _ := NewMethod(id)
		e := wantCode(t, got.Decode(append(args, 0)), FrameError)
		if !strings.Contains(e.Error(), m.Name()) {
			t.Errorf("error text %q does not name %s", e.Error(), m.Name())
		}
	}
}

func TestMethodGolden(t *testing.T) {
	for _, tc := range []struct {
		m    Method
		want string // hex of the whole frame on channel 1
	}{
		{&BasicPublish{Exchange: "ex", RoutingKey: "rk", Mandatory: true},
			"01 0001 0000000d 003c0028 0000 02 6578 02 726b 01 ce"},
		{&BasicPublish{Immediate: true}, "01 0001 00000009 003c0028 0000 00 00 02 ce"},
		{&BasicAck{DeliveryTag: 0x0102030405060708, Multiple: true},
			"01 0001 0000000d 003c0050 0102030405060708 01 ce"},
		{&BasicNack{DeliveryTag: 1, Requeue: true}, "01 0001 0000000d 003c0078 0000000000000001 02 ce"},
		{&ConnectionTune{ChannelMax: 2047, FrameMax: 131072, Heartbeat: 60},
			"01 0001 0000000c 000a001e 07ff 00020000 003c ce"},
		// queue.declare's five bits share one octet: passive, durable,
		// exclusive, auto-delete, no-wait from bit 0 up.
		{&QueueDeclare{Queue: "q", Durable: true, AutoDelete: true, NoWait: true},
			"01 0001 0000000d 0032000a 0000 01 71 1a 00000000 ce"},
		{&ExchangeDeclare{Exchange: "e", Type: "topic", Passive: true, Internal: true, Arguments: Table{"a": "b"}},
			"01 0001 0000001b 0028000a 0000 01 65 05 746f706963 09 00000008 0161 53 00000001 62 ce"},
		{&ConfirmSelect{NoWait: true}, "01 0001 00000005 0055000a 01 ce"},
		{&ConnectionOpen{VirtualHost: "/"}, "01 0001 00000008 000a0028 01 2f 00 00 ce"},
		{&ChannelOpenOk{}, "01 0001 00000008 0014000b 00000000 ce"},
		{&ConnectionUpdateSecret{NewSecret: "s", Reason: "r"},
			"01 0001 0000000b 000a0046 00000001 73 01 72 ce"},
		{&TxSelect{}, "01 0001 00000004 005a000a ce"},
	} {
		want, err := hex.DecodeString(strings.ReplaceAll(tc.want, " ", ""))
		if err != nil {
			t.Fatalf("%s: bad hex: %v", tc.m.Name(), err)
		}
		if got := AppendMethodFrame(nil, 1, tc.m); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %x\nwant %x", tc.m.Name(), got, want)
		}
	}
}

func TestUnknownMethod(t *testing.T) {
	e := wantCode(t, second(NewMethod(60<<16|99)), CommandInvalid)
	if e.ClassID != 60 || e.MethodID != 99 || !e.Hard() {
		t.Errorf("unknown basic method: %+v", e)
	}
	wantCode(t, second(NewMethod(30<<16|10)), NotImplemented)
	wantCode(t, second(DecodeMethod([]byte{0, 60})), FrameError)
	wantCode(t, second(DecodeMethod([]byte{0, 60, 0, 80, 1})), FrameError)
	if MethodName(1) != "" {
		t.Error("MethodName of an unknown id is not empty")
	}
}

func second[T any](_ T, err error) error { return err }

func TestValidate(t *testing.T) {
	long := strings.Repeat("x", 256)
	wantCode(t, (&QueueDeclare{Queue: long}).Validate(), FrameError)
	wantCode(t, (&QueueDeclare{Arguments: Table{"k": struct{}{}}}).Validate(), FrameError)
	wantCode(t, (&ExchangeBind{Arguments: Table{long: 1}}).Validate(), FrameError)

	// What Validate rejects still encodes to a well-formed frame.
	m := &QueueDeclare{Queue: long, Arguments: Table{"k": struct{}{}}}
	got := &QueueDeclare{}
	if err := got.Decode(m.AppendArgs(nil)); err != nil {
		t.Fatal(err)
	}
	if got.Queue != long[:255] || got.Arguments != nil {
		t.Errorf("decoded %q (%d bytes), %v", got.Queue[:5], len(got.Queue), got.Arguments)
	}
}

func TestSynchronous(t *testing.T) {
	for id, want := range map[uint32]bool{
		IDBasicPublish: false, IDBasicAck: false, IDQueueDeclare: true,
		IDConfirmSelect: true, IDChannelFlowOk: false, IDConnectionBlocked: false,
	} {
		if Synchronous(id) != want {
			t.Errorf("Synchronous(%s) = %v", MethodName(id), !want)
		}
	}
}
