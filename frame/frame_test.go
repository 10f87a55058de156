package frame

import (
	"bytes"
	"testing"
)

func TestParseIncremental(t *testing.T) {
	var stream []byte
	stream = AppendMethodFrame(stream, 1, &BasicQos{PrefetchCount: 10})
	stream = AppendHeartbeat(stream)
	stream = AppendFrame(stream, FrameBody, 513, []byte("hello"))

	// Fed one byte at a time, Parse asks for more until a frame is whole,
	// then returns exactly that frame.
	var got []Frame
	buf := []byte{}
	for _, c := range stream {
		buf = append(buf, c)
		for {
			f, n, err := Parse(buf, FrameMinSize)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			got = append(got, Frame{f.Type, f.Channel, bytes.Clone(f.Payload)})
			buf = buf[n:]
		}
	}
	if len(buf) != 0 || len(got) != 3 {
		t.Fatalf("%d frames, %d bytes left", len(got), len(buf))
	}
	if got[0].Type != FrameMethod || got[0].Channel != 1 {
		t.Errorf("frame 0: %+v", got[0])
	}
	if got[1].Type != FrameHeartbeat || got[1].Channel != 0 || len(got[1].Payload) != 0 {
		t.Errorf("frame 1: %+v", got[1])
	}
	if got[2].Type != FrameBody || got[2].Channel != 513 || string(got[2].Payload) != "hello" {
		t.Errorf("frame 2: %+v", got[2])
	}
}

func TestParseErrors(t *testing.T) {
	body := AppendFrame(nil, FrameBody, 1, make([]byte, 100)) // 108 bytes

	// frame-max counts the 8 bytes of header and frame-end, but as in
	// RabbitMQ a payload may exceed it by those 8 bytes.
	if _, n, err := Parse(body, 108); err != nil || n != 108 {
		t.Fatalf("frame of exactly frame-max: n %d, %v", n, err)
	}
	if _, n, err := Parse(body, 100); err != nil || n != 108 {
		t.Fatalf("payload of exactly frame-max: n %d, %v", n, err)
	}
	wantCode(t, third(Parse(body, 99)), FrameError)
	if _, _, err := Parse(body, 99); err.Error() != "FRAME_ERROR - type 3, all octets = <<>>: {frame_too_large,100,91}" {
		t.Errorf("text %q, not RabbitMQ's", err)
	}
	// The size is refused from the header alone, before the payload arrives.
	wantCode(t, third(Parse(body[:7], 99)), FrameError)
	huge := []byte{FrameBody, 0, 1, 0xff, 0xff, 0xff, 0xff}
	wantCode(t, third(Parse(huge, 1<<20)), FrameError)
	if _, n, err := Parse(huge, 0); n != 0 || err != nil {
		t.Errorf("huge frame without limit: n %d, %v; want need-more", n, err)
	}

	bad := bytes.Clone(body)
	bad[len(bad)-1] = 0xCD
	e := wantCode(t, third(Parse(bad, 0)), FrameError)
	if !e.Hard() {
		t.Error("frame error is not hard")
	}

	bad = bytes.Clone(body)
	bad[0] = 4 // type 4 was 0-9's oob-method, gone in 0-9-1
	wantCode(t, third(Parse(bad, 0)), FrameError)

	for i := range FrameHeaderSize {
		if _, n, err := Parse(body[:i], 0); n != 0 || err != nil {
			t.Errorf("Parse of %d bytes: n %d, %v", i, n, err)
		}
	}
}

func third[A, B any](_ A, _ B, err error) error { return err }

func TestParsePayloadCapped(t *testing.T) {
	stream := AppendFrame(nil, FrameBody, 1, []byte("ab"))
	stream = AppendHeartbeat(stream)
	f, _, _ := Parse(stream, 0)
	_ = append(f.Payload, 'X') // must reallocate, not overwrite frame-end
	if _, _, err := Parse(stream, 0); err != nil {
		t.Fatal("appending to a payload corrupted the buffer")
	}
}

func TestHeartbeat(t *testing.T) {
	want := []byte{8, 0, 0, 0, 0, 0, 0, 0xCE}
	if got := AppendHeartbeat(nil); !bytes.Equal(got, want) {
		t.Errorf("heartbeat %x", got)
	}
	if ProtocolHeader != [8]byte{'A', 'M', 'Q', 'P', 0, 0, 9, 1} {
		t.Error("protocol header")
	}
}

func TestErrorText(t *testing.T) {
	e := Errorf(NotFound, "no queue '%s' in vhost '/'", "q")
	if e.Error() != "NOT_FOUND - no queue 'q' in vhost '/'" || e.Hard() {
		t.Errorf("%q hard=%v", e.Error(), e.Hard())
	}
	for code, hard := range map[uint16]bool{
		ContentTooLarge: false, NoRoute: false, NoConsumers: false, AccessRefused: false,
		NotFound: false, ResourceLocked: false, PreconditionFailed: false,
		ConnectionForced: true, InvalidPath: true, FrameError: true, SyntaxError: true,
		CommandInvalid: true, ChannelError: true, UnexpectedFrame: true, ResourceError: true,
		NotAllowed: true, NotImplemented: true, InternalError: true, 999: true,
	} {
		if (&Error{Code: code}).Hard() != hard {
			t.Errorf("code %d: Hard() = %v", code, !hard)
		}
	}
	if got := (&Error{Code: 999, Text: "x"}).Error(); got != "REPLY_999 - x" {
		t.Errorf("unknown code text %q", got)
	}
}
