package wire

import (
	"encoding/binary"
	"errors"
	"testing"
)

// deliverBytes is a hand-built basic.deliver on channel 1: consumer tag "ct",
// delivery tag 0x2A, redelivered, exchange "" and routing key "q".
var deliverBytes = []byte{
	1, 0, 1, 0, 0, 0, 19,
	0, 60, 0, 60,
	2, 'c', 't',
	0, 0, 0, 0, 0, 0, 0, 0x2A,
	1,
	0,
	1, 'q',
	0xCE,
}

func TestParseFrameDeliver(t *testing.T) {
	f, n, err := ParseFrame(deliverBytes, 0)
	if err != nil || n != len(deliverBytes) {
		t.Fatalf("n=%d err=%v", n, err)
	}
	if f.Type != FrameMethod || f.Channel != 1 {
		t.Fatalf("frame %+v", f)
	}
	id, args, err := Method(f.Payload)
	if err != nil || id != BasicDeliver {
		t.Fatalf("id %x err %v", id, err)
	}
	d, err := ParseDeliver(args)
	if err != nil || d.Tag != 0x2A || !d.Redelivered {
		t.Fatalf("deliver %+v err %v", d, err)
	}
	// The payload is a view into the input, not a copy.
	if &f.Payload[0] != &deliverBytes[HeaderSize] {
		t.Fatal("payload was copied")
	}
}

func TestParseFrameNeedsMore(t *testing.T) {
	for i := 0; i < len(deliverBytes); i++ {
		_, n, err := ParseFrame(deliverBytes[:i], 0)
		if n != 0 || err != nil {
			t.Fatalf("prefix %d: n=%d err=%v", i, n, err)
		}
	}
}

func TestParseFrameErrors(t *testing.T) {
	bad := append([]byte(nil), deliverBytes...)
	bad[len(bad)-1] = 0
	if _, _, err := ParseFrame(bad, 0); !errors.Is(err, ErrFrameEnd) {
		t.Fatalf("bad end: %v", err)
	}
	if _, _, err := ParseFrame(deliverBytes, 10); err == nil {
		t.Fatal("oversized frame accepted")
	}
	if _, err := ParseDeliver([]byte{5, 'a'}); err == nil {
		t.Fatal("short deliver accepted")
	}
}

func TestParseStream(t *testing.T) {
	// deliver + header(body 12) + body, then a heartbeat, back to back.
	var b []byte
	b = append(b, deliverBytes...)
	b = AppendContentHeader(b, 1, 12, 2)
	body := make([]byte, 12)
	binary.BigEndian.PutUint64(body, 123456789)
	b = AppendBody(b, 1, body, 0)
	b = append(b, FrameHeartbeat, 0, 0, 0, 0, 0, 0, FrameEnd)
	var types []uint8
	for len(b) > 0 {
		f, n, err := ParseFrame(b, 131072)
		if err != nil || n == 0 {
			t.Fatalf("n=%d err=%v", n, err)
		}
		types = append(types, f.Type)
		switch f.Type {
		case FrameHeader:
			c, size, err := ParseContentHeader(f.Payload)
			if err != nil || c != ClassBasic || size != 12 {
				t.Fatalf("header class %d size %d err %v", c, size, err)
			}
		case FrameBody:
			if ts := binary.BigEndian.Uint64(f.Payload); ts != 123456789 {
				t.Fatalf("timestamp %d", ts)
			}
		}
		b = b[n:]
	}
	if string(types) != string([]uint8{1, 2, 3, 8}) {
		t.Fatalf("types %v", types)
	}
}

func TestParseAckAndClose(t *testing.T) {
	a := AppendBasicAck(nil, 1, 99, true)
	f, _, _ := ParseFrame(a, 0)
	_, args, _ := Method(f.Payload)
	tag, multi, err := ParseAck(args)
	if err != nil || tag != 99 || !multi {
		t.Fatalf("ack %d %v %v", tag, multi, err)
	}
	c := AppendClose(nil, 3, 404, "NOT_FOUND - no queue")
	f, _, _ = ParseFrame(c, 0)
	id, args, _ := Method(f.Payload)
	if id != ChannelClose {
		t.Fatalf("id %x", id)
	}
	e := ParseClose(f.Channel, args)
	if e.Code != 404 || e.Text != "NOT_FOUND - no queue" || e.Channel != 3 {
		t.Fatalf("close %+v", e)
	}
}

func TestParseTuneAndStart(t *testing.T) {
	tune := []byte{0, 10, 0, 30, 0x07, 0xFF, 0, 2, 0, 0, 0, 60}
	id, args, _ := Method(tune)
	tn, err := ParseTune(args)
	if id != ConnectionTune || err != nil || tn != (Tune{2047, 131072, 60}) {
		t.Fatalf("tune %+v %v", tn, err)
	}
	start := []byte{0, 9, 0, 0, 0, 0, 0, 0, 0, 5, 'P', 'L', 'A', 'I', 'N', 0, 0, 0, 5, 'e', 'n', '_', 'U', 'S'}
	maj, mnr, mech, err := ParseStart(start)
	if err != nil || maj != 0 || mnr != 9 || mech != "PLAIN" {
		t.Fatalf("start %d %d %q %v", maj, mnr, mech, err)
	}
}

func TestParseAllocsZero(t *testing.T) {
	var b []byte
	for i := 0; i < 100; i++ {
		b = append(b, deliverBytes...)
		b = AppendContentHeader(b, 1, 16, 0)
		b = AppendBody(b, 1, make([]byte, 16), 0)
	}
	allocs := testing.AllocsPerRun(100, func() {
		p := b
		for len(p) > 0 {
			f, n, err := ParseFrame(p, 0)
			if err != nil || n == 0 {
				panic("parse")
			}
			if f.Type == FrameMethod {
				_, args, _ := Method(f.Payload)
				if _, err := ParseDeliver(args); err != nil {
					panic(err)
				}
			}
			p = p[n:]
		}
	})
	if allocs != 0 {
		t.Fatalf("allocs per run %v", allocs)
	}
}
