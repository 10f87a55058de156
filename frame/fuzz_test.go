package frame

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"testing"
)

// Fuzz properties: nothing panics, every error is an *Error, the zero-copy
// and the allocating decoders agree, and whatever decodes re-encodes to
// bytes that decode to the same thing (compared as second-generation
// encodings, since the first may differ harmlessly: unsorted table keys,
// a 't' octet of 2, spare bits set, a present zero property).

func fuzzSeeds() [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	seeds := [][]byte{publishFrames(make([]byte, 300)), AppendHeartbeat(nil)}
	for _, id := range allMethodIDs() {
		m, _ := NewMethod(id)
		fillRandom(r, m)
		seeds = append(seeds, AppendMethodFrame(nil, 1, m))
	}
	return seeds
}

func isError(t *testing.T, err error) {
	t.Helper()
	if _, ok := err.(*Error); !ok {
		t.Fatalf("error %v is a %T, not an *Error", err, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s, uint32(0))
		f.Add(s, uint32(FrameMinSize))
	}
	f.Fuzz(func(t *testing.T, data []byte, frameMax uint32) {
		for len(data) > 0 {
			fr, n, err := Parse(data, frameMax)
			if err != nil {
				isError(t, err)
				if n < 0 || n > len(data) {
					t.Fatalf("Parse error %v with n %d of %d", err, n, len(data))
				}
				if n == 0 {
					return
				}
				data = data[n:] // a well-delimited bad frame: the stream goes on
				continue
			}
			if n == 0 {
				return
			}
			if n > len(data) || len(fr.Payload) != n-frameOverhead {
				t.Fatalf("Parse consumed %d of %d, payload %d", n, len(data), len(fr.Payload))
			}
			checkFrame(t, fr)
			data = data[n:]
		}
	})
}

func checkFrame(t *testing.T, fr Frame) {
	switch fr.Type {
	case FrameMethod:
		m, err := DecodeMethod(fr.Payload)
		if err != nil {
			isError(t, err)
		}
		if id, idErr := MethodID(fr.Payload); idErr == nil && id == IDBasicPublish {
			ex, rk, mand, imm, verr := DecodePublishView(fr.Payload[4:])
			if (verr == nil) != (err == nil) {
				t.Fatalf("DecodePublishView error %v, Decode error %v", verr, err)
			}
			if p, ok := m.(*BasicPublish); ok && (string(ex) != p.Exchange || string(rk) != p.RoutingKey || mand != p.Mandatory || imm != p.Immediate) {
				t.Fatalf("DecodePublishView %q %q %v %v, Decode %+v", ex, rk, mand, imm, p)
			}
		}
		if m == nil {
			return
		}
		enc1 := AppendMethodFrame(nil, fr.Channel, m)
		f1, _, err := Parse(enc1, 0)
		if err != nil {
			t.Fatalf("re-encoded %s does not parse: %v", m.Name(), err)
		}
		m2, err := DecodeMethod(f1.Payload)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", m.Name(), err)
		}
		if enc2 := AppendMethodFrame(nil, fr.Channel, m2); !bytes.Equal(enc1, enc2) {
			t.Fatalf("%s not stable:\n%x\n%x", m.Name(), enc1, enc2)
		}
	case FrameHeader:
		_, _, raw, err := ParseContentHeader(fr.Payload)
		if err != nil {
			isError(t, err)
			return
		}
		checkProps(t, raw)
	}
}

func checkProps(t *testing.T, raw []byte) {
	p, err := DecodeProperties(raw)
	verr := ValidateProperties(raw)
	if (err == nil) != (verr == nil) {
		t.Fatalf("DecodeProperties error %v, ValidateProperties error %v", err, verr)
	}
	dm := PropsDeliveryMode(raw)
	uid, uok := PropsShortstr(raw, PropUserID)
	h, herr := PropsHeaders(raw)
	if err != nil {
		isError(t, err)
		return
	}
	if dm != p.DeliveryMode || string(uid) != p.UserID || uok != (len(raw) >= 2 && raw[1]&byte(PropUserID) != 0) {
		t.Fatalf("single-property readers disagree: %d %q %v vs %+v", dm, uid, uok, p)
	}
	if herr != nil || !reflect.DeepEqual(h == nil, p.Headers == nil) {
		t.Fatalf("PropsHeaders = %v, %v; DecodeProperties headers %v", h, herr, p.Headers)
	}
	if p.Validate() != nil {
		t.Fatalf("decoded properties do not validate: %v", p.Validate())
	}
	enc1 := AppendProperties(nil, &p)
	p2, err := DecodeProperties(enc1)
	if err != nil {
		t.Fatalf("re-encoded properties do not decode: %v", err)
	}
	if enc2 := AppendProperties(nil, &p2); !bytes.Equal(enc1, enc2) {
		t.Fatalf("properties not stable:\n%x\n%x", enc1, enc2)
	}
}

func FuzzDecodeTable(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		b, _ := AppendTable(nil, randTable(r, 0))
		f.Add(b)
	}
	f.Add(nestedTable(maxTableDepth))
	f.Add(nestedTable(maxTableDepth + 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		tbl, n, err := DecodeTable(data)
		sn, serr := skipTable(data, 0)
		if (err == nil) != (serr == nil) || (err == nil && n != sn) {
			t.Fatalf("DecodeTable %d, %v; skipTable %d, %v", n, err, sn, serr)
		}
		if err != nil {
			isError(t, err)
			return
		}
		if n < 4 || n > len(data) {
			t.Fatalf("consumed %d of %d", n, len(data))
		}
		if err := checkTable(tbl, 0); err != nil {
			t.Fatalf("decoded table fails checkTable: %v", err)
		}
		enc1, err := AppendTable(nil, tbl)
		if err != nil {
			t.Fatalf("decoded table does not encode: %v", err)
		}
		tbl2, _, err := DecodeTable(enc1)
		if err != nil {
			t.Fatalf("re-encoded table does not decode: %v", err)
		}
		if enc2, _ := AppendTable(nil, tbl2); !bytes.Equal(enc1, enc2) {
			t.Fatalf("table not stable:\n%x\n%x", enc1, enc2)
		}
	})
}

func FuzzProperties(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		p := randProperties(r)
		f.Add(AppendProperties(nil, &p))
	}
	f.Add([]byte{0x10, 0x01, 0x00, 0x00, 0x02})
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkProps(t, raw)
	})
}
