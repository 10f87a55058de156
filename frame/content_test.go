package frame

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func TestContentHeader(t *testing.T) {
	p := fullProperties()
	raw := AppendProperties(nil, &p)
	wire := AppendContentHeader(nil, 5, ClassBasic, 1<<33, raw)
	f, n, err := Parse(wire, 0)
	if err != nil || n != len(wire) || f.Type != FrameHeader || f.Channel != 5 {
		t.Fatalf("Parse: %+v %d %v", f, n, err)
	}
	class, size, gotRaw, err := ParseContentHeader(f.Payload)
	if err != nil || class != ClassBasic || size != 1<<33 || !bytes.Equal(gotRaw, raw) {
		t.Fatalf("ParseContentHeader: %d %d %x %v", class, size, gotRaw, err)
	}

	golden := AppendContentHeader(nil, 1, ClassBasic, 3, []byte{0x10, 0, 2})
	if got := hex.EncodeToString(golden); got != "02"+"0001"+"0000000f"+"003c"+"0000"+"0000000000000003"+"100002"+"ce" {
		t.Errorf("content header %s", got)
	}

	wantCode(t, fourth(ParseContentHeader(make([]byte, 11))), FrameError)
	wantCode(t, fourth(ParseContentHeader(make([]byte, 13))), FrameError)
}

func fourth[A, B, C any](_ A, _ B, _ C, err error) error { return err }

func TestAppendBody(t *testing.T) {
	body := make([]byte, 10000)
	for i := range body {
		body[i] = byte(i)
	}
	for _, frameMax := range []uint32{0, 9, 100, 4096, 4104, 10008, 10009, 131072, 1, 8} {
		wire := AppendBody([]byte("pre"), 3, body, frameMax)
		if len(wire)-3 != BodyFramesLen(len(body), frameMax) {
			t.Errorf("frameMax %d: %d bytes, BodyFramesLen says %d", frameMax, len(wire)-3, BodyFramesLen(len(body), frameMax))
		}
		limit := frameMax
		if limit != 0 && limit <= 8 {
			limit = FrameMinSize
		}
		var got []byte
		for rest := wire[3:]; len(rest) > 0; {
			f, n, err := Parse(rest, limit)
			if err != nil || n == 0 {
				t.Fatalf("frameMax %d: Parse: %d, %v", frameMax, n, err)
			}
			if f.Type != FrameBody || f.Channel != 3 {
				t.Fatalf("frameMax %d: frame %d/%d", frameMax, f.Type, f.Channel)
			}
			// Every frame but the last is full.
			if limit != 0 && n != int(limit) && len(rest) != n {
				t.Fatalf("frameMax %d: short frame of %d bytes in the middle", frameMax, n)
			}
			got = append(got, f.Payload...)
			rest = rest[n:]
		}
		if !bytes.Equal(got, body) {
			t.Fatalf("frameMax %d: body differs", frameMax)
		}
	}
	if got := AppendBody(nil, 1, nil, 4096); len(got) != 0 || BodyFramesLen(0, 4096) != 0 {
		t.Error("an empty body must append no frames")
	}
}
