package wire

import (
	"bytes"
	"testing"
)

func TestAppendBasicAckBytes(t *testing.T) {
	got := AppendBasicAck(nil, 1, 0x0102030405060708, true)
	want := []byte{
		1, 0, 1, 0, 0, 0, 13, // method frame, channel 1, size 13
		0, 60, 0, 80, // basic.ack
		1, 2, 3, 4, 5, 6, 7, 8, // delivery tag
		1,    // multiple
		0xCE, // frame end
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestAppendPublishBytes(t *testing.T) {
	body := []byte("0123456789")
	got, off := AppendPublish(nil, 2, "ex", "k", body, 2, 4096)
	want := []byte{
		1, 0, 2, 0, 0, 0, 12, 0, 60, 0, 40, 0, 0, 2, 'e', 'x', 1, 'k', 0, 0xCE,
		2, 0, 2, 0, 0, 0, 15, 0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0x10, 0, 2, 0xCE,
		3, 0, 2, 0, 0, 0, 10, '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 0xCE,
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	if got[off] != '0' || off != 20+23+7 {
		t.Fatalf("body offset %d", off)
	}
	if n := PublishSize("ex", "k", len(body), 2, 4096); n != len(got) {
		t.Fatalf("PublishSize %d, encoded %d", n, len(got))
	}
}

func TestAppendBodySplitsFrames(t *testing.T) {
	body := bytes.Repeat([]byte{'x'}, 10000)
	got := AppendBody(nil, 1, body, 4096)
	var total, frames int
	for len(got) > 0 {
		f, n, err := ParseFrame(got, 4096)
		if err != nil || n == 0 {
			t.Fatalf("parse: n=%d err=%v", n, err)
		}
		if f.Type != FrameBody || len(f.Payload) > 4096-Overhead {
			t.Fatalf("frame type %d size %d", f.Type, len(f.Payload))
		}
		total += len(f.Payload)
		frames++
		got = got[n:]
	}
	if total != 10000 || frames != 3 {
		t.Fatalf("total %d frames %d", total, frames)
	}
	if n := PublishSize("", "q", 10000, 0, 4096); n != len(AppendBasicPublishMethod(nil, 1, "", "q"))+len(AppendContentHeader(nil, 1, 10000, 0))+10000+3*Overhead {
		t.Fatalf("PublishSize split %d", n)
	}
}

func TestAppendTableBytes(t *testing.T) {
	got := AppendTable(nil, Table{{"a", "b"}, {"t", true}, {"n", Table{{"i", int32(7)}}}})
	want := []byte{
		0, 0, 0, 26,
		1, 'a', 'S', 0, 0, 0, 1, 'b',
		1, 't', 't', 1,
		1, 'n', 'F', 0, 0, 0, 7, 1, 'i', 'I', 0, 0, 0, 7,
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestAppendStartOkAndTuneOk(t *testing.T) {
	b := AppendStartOk(nil, nil, "guest", "guest")
	f, n, err := ParseFrame(b, 0)
	if err != nil || n != len(b) || f.Channel != 0 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	id, args, _ := Method(f.Payload)
	if id != ConnectionStartOk {
		t.Fatalf("id %x", id)
	}
	a := NewArgs(args)
	a.Longstr()
	if m := string(a.Shortstr()); m != "PLAIN" {
		t.Fatalf("mechanism %q", m)
	}
	if r := string(a.Longstr()); r != "\x00guest\x00guest" {
		t.Fatalf("response %q", r)
	}
	tb := AppendTuneOk(nil, 2047, 131072, 0)
	want := []byte{1, 0, 0, 0, 0, 0, 12, 0, 10, 0, 31, 0x07, 0xFF, 0, 2, 0, 0, 0, 0, 0xCE}
	if !bytes.Equal(tb, want) {
		t.Fatalf("tune-ok %v", tb)
	}
}
