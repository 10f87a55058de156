package frame

import (
	"bytes"
	"reflect"
	"testing"
)

func TestPropsHeaderField(t *testing.T) {
	p := Properties{ContentType: "text/plain", Headers: Table{"CC": []any{"a", int32(1), "b"}, "BCC": []any{"c"}, "x": "y"}, Priority: 0, ReplyTo: "r", MessageID: "m"}
	raw := AppendProperties(nil, &p)
	cc, ok := PropsHeaderField(raw, "CC")
	if !ok || cc.Tag != 'A' {
		t.Fatalf("CC: %+v %v", cc, ok)
	}
	var keys []string
	ArrayStrings(cc.Value, func(s []byte) { keys = append(keys, string(s)) })
	if !reflect.DeepEqual(keys, []string{"a", "b"}) {
		t.Fatalf("CC strings %q, want a b (the integer skipped)", keys)
	}
	if _, ok := PropsHeaderField(raw, "cc"); ok {
		t.Fatal("header names are case-sensitive")
	}
	bcc, _ := PropsHeaderField(raw, "BCC")
	stripped := PropsWithoutHeaderField(raw, bcc)
	got, err := DecodeProperties(stripped)
	if err != nil {
		t.Fatal(err)
	}
	want := p
	want.Headers = Table{"CC": []any{"a", int32(1), "b"}, "x": "y"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("without BCC: %+v, want %+v", got, want)
	}
	if err := ValidateProperties(stripped); err != nil {
		t.Fatalf("stripped properties invalid: %v", err)
	}
	if _, ok := PropsHeaderField(AppendProperties(nil, &Properties{MessageID: "m"}), "CC"); ok {
		t.Fatal("found a header in properties without headers")
	}
}

func TestPropsWithShortstr(t *testing.T) {
	p := Properties{CorrelationID: "c", ReplyTo: "amq.rabbitmq.reply-to", Expiration: "60", Timestamp: 42}
	raw := AppendProperties(nil, &p)
	out := PropsWithShortstr(raw, PropReplyTo, "amq.rabbitmq.reply-to.token")
	got, err := DecodeProperties(out)
	if err != nil {
		t.Fatal(err)
	}
	p.ReplyTo = "amq.rabbitmq.reply-to.token"
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("%+v, want %+v", got, p)
	}
	if ts, ok := PropsTimestamp(out); !ok || ts != 42 {
		t.Fatalf("timestamp %d %v", ts, ok)
	}
	if same := PropsWithShortstr(raw, PropMessageID, "x"); !bytes.Equal(same, raw) {
		t.Fatal("an absent property was added")
	}
}

// Malformed properties or tables give "not found", never a panic.
func TestPropsViewsMalformed(t *testing.T) {
	raw := AppendProperties(nil, &Properties{Headers: Table{"CC": []any{"a", "b"}}})
	for cut := range raw {
		b := raw[:cut]
		f, ok := PropsHeaderField(b, "CC")
		if ok {
			ArrayStrings(f.Value, func([]byte) {})
			PropsWithoutHeaderField(b, f)
		}
		PropsWithShortstr(b, PropReplyTo, "x")
		PropsTimestamp(b)
	}
	ArrayStrings([]byte{0, 0, 0, 9, 'S'}, func([]byte) { t.Fatal("element from a truncated array") })
}

func FuzzPropsHeaderField(f *testing.F) {
	f.Add(AppendProperties(nil, &Properties{Headers: Table{"CC": []any{"a"}, "BCC": []any{"b"}}}))
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, k := range []string{"CC", "BCC"} {
			if h, ok := PropsHeaderField(raw, k); ok {
				ArrayStrings(h.Value, func([]byte) {})
				out := PropsWithoutHeaderField(raw, h)
				if ValidateProperties(raw) == nil && ValidateProperties(out) != nil {
					t.Fatalf("cutting %s from valid properties made them invalid", k)
				}
			}
		}
	})
}

// The pair finds what two single lookups find, in one walk, whichever
// order the keys come in and when only one is there.
func TestPropsHeaderFieldPair(t *testing.T) {
	for _, h := range []Table{
		{"CC": []any{"a"}, "BCC": []any{"c"}, "x": "y"},
		{"x": "y", "BCC": []any{"c"}},
		{"CC": []any{"a", "b"}},
		{"x": int32(1)},
	} {
		raw := AppendProperties(nil, &Properties{MessageID: "m", Headers: h})
		f1, ok1, f2, ok2 := PropsHeaderFieldPair(raw, "CC", "BCC")
		w1, wok1 := PropsHeaderField(raw, "CC")
		w2, wok2 := PropsHeaderField(raw, "BCC")
		if ok1 != wok1 || ok2 != wok2 || !reflect.DeepEqual(f1, w1) || !reflect.DeepEqual(f2, w2) {
			t.Errorf("headers %v: pair (%+v %v, %+v %v), singles (%+v %v, %+v %v)", h, f1, ok1, f2, ok2, w1, wok1, w2, wok2)
		}
	}
}
