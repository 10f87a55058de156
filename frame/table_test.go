package frame

import (
	"bytes"
	"encoding/hex"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTableRoundTrip(t *testing.T) {
	r := newRand(t)
	for range 2000 {
		want := randTable(r, 0)
		b, err := AppendTable([]byte("xy"), want)
		if err != nil {
			t.Fatal(err)
		}
		got, n, err := DecodeTable(b[2:])
		if err != nil || n != len(b)-2 {
			t.Fatalf("DecodeTable: n %d of %d, %v", n, len(b)-2, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip\n got %#v\nwant %#v", got, want)
		}
		if err := checkTable(want, 0); err != nil {
			t.Fatalf("checkTable: %v", err)
		}
		if n, err := skipTable(b[2:], 0); err != nil || n != len(b)-2 {
			t.Fatalf("skipTable: %d, %v", n, err)
		}
	}
}

func TestTableEveryType(t *testing.T) {
	ts := time.Unix(1700000000, 0).UTC()
	in := Table{
		"t": true, "b": int8(-2), "B": uint8(200), "s": int16(-300), "u": uint16(60000),
		"I": int32(-70000), "i": uint32(4000000000), "l": int64(-1 << 40), "f": float32(1.5),
		"d": 2.25, "D": Decimal{Scale: 2, Value: -12345}, "S": "str", "x": []byte{0, 1},
		"A": []any{int32(1), "two", nil, []any{}}, "T": ts, "F": Table{"n": Table{}}, "V": nil,
		// Accepted on encode, decoded as their wire type.
		"int": 5, "bigint": math.MaxInt32 + 1, "map": map[string]any{"k": false},
	}
	b, err := AppendTable(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := DecodeTable(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Table{}
	for k, v := range in {
		want[k] = v
	}
	want["F"] = Table{"n": Table(nil)}
	want["int"] = int32(5)
	want["bigint"] = int64(math.MaxInt32 + 1)
	want["map"] = Table{"k": false}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %#v\nwant %#v", got, want)
	}
}

func TestTableGolden(t *testing.T) {
	// Keys are sorted, so the bytes are fixed.
	b, err := AppendTable(nil, Table{"b": int32(1), "a": "x", "c": []any{true}})
	if err != nil {
		t.Fatal(err)
	}
	want := "00000018" + "0161" + "53" + "00000001" + "78" + "0162" + "49" + "00000001" + "0163" + "41" + "00000002" + "7401"
	if hex.EncodeToString(b) != want {
		t.Errorf("got %x\nwant %s", b, want)
	}
}

func TestTableMalformed(t *testing.T) {
	for _, tc := range []struct{ name, hex string }{
		{"no size", "000000"},
		{"size past end", "00000005 0161 56"},
		{"key past end", "00000002 0561"},
		{"no tag", "00000002 0161"},
		{"unknown tag", "00000003 0161 5a"},
		{"short int", "00000005 0161 49 0000"},
		{"long string past end", "00000008 0161 53 00000009 41"},
		{"long string huge", "00000008 0161 53 ffffffff 41"},
		{"array past end", "00000008 0161 41 00000009 56"},
		{"bad value in array", "00000008 0161 41 00000001 3f"},
		{"nested bad", "0000000a 0161 46 00000003 0162 3f"},
	} {
		b, err := hex.DecodeString(strings.ReplaceAll(tc.hex, " ", ""))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, _, err = DecodeTable(b)
		wantCode(t, err, FrameError)
		_, serr := skipTable(b, 0)
		if serr == nil {
			t.Errorf("%s: skipTable accepted it", tc.name)
		}
	}
	// A table size larger than the caller's slice, with the bytes beyond it
	// present in the backing array, must still be refused.
	b, _ := hex.DecodeString("0000000501610000")
	wantCode(t, third(DecodeTable(b[:6])), FrameError)
}

// nestedTable builds depth tables, each the only value of the one outside.
func nestedTable(depth int) []byte {
	// Build from the inside out: each level is 4-byte size, key "k", 'F', inner.
	inner := []byte{0, 0, 0, 0}
	for range depth - 1 {
		level := append([]byte{0, 0, 0, 0, 1, 'k', 'F'}, inner...)
		n := len(level) - 4
		level[0], level[1], level[2], level[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
		inner = level
	}
	return inner
}

func TestTableDepth(t *testing.T) {
	if _, _, err := DecodeTable(nestedTable(maxTableDepth)); err != nil {
		t.Fatalf("%d levels: %v", maxTableDepth, err)
	}
	e := wantCode(t, third(DecodeTable(nestedTable(maxTableDepth+1))), FrameError)
	if !strings.Contains(e.Text, "nested") {
		t.Errorf("text %q", e.Text)
	}
	if _, err := skipTable(nestedTable(maxTableDepth+1), 0); err == nil {
		t.Error("skipTable accepted too deep a table")
	}
	// Arrays count as levels too: 100 nested arrays.
	arr := []byte{0, 0, 0, 0}
	for range 100 {
		n := len(arr) + 1
		arr = append([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), 'A'}, arr...)
	}
	tbl := append([]byte{0, 0, 0, 0, 1, 'k', 'A'}, arr...)
	n := len(tbl) - 4
	tbl[0], tbl[1], tbl[2], tbl[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	wantCode(t, third(DecodeTable(tbl)), FrameError)

	// A table that contains itself must fail on encode, not loop.
	self := Table{}
	self["me"] = self
	wantCode(t, second(AppendTable(nil, self)), FrameError)
	if checkTable(self, 0) == nil {
		t.Error("checkTable accepted a cycle")
	}
	a := []any{nil}
	a[0] = a
	wantCode(t, second(AppendTable(nil, Table{"a": a})), FrameError)
}

func TestAppendTableErrors(t *testing.T) {
	for name, tbl := range map[string]Table{
		"unsupported": {"k": uint64(1)},
		"long key":    {strings.Repeat("k", 256): 1},
		"nested":      {"k": Table{"j": []any{struct{}{}}}},
	} {
		dst := []byte("keep")
		out, err := AppendTable(dst, tbl)
		wantCode(t, err, FrameError)
		if !bytes.Equal(out, []byte("keep")) {
			t.Errorf("%s: dst changed to %q", name, out)
		}
		if checkTable(tbl, 0) == nil {
			t.Errorf("%s: checkTable accepted it", name)
		}
	}
	if b, err := AppendTable(nil, nil); err != nil || !bytes.Equal(b, []byte{0, 0, 0, 0}) {
		t.Errorf("nil table: %x, %v", b, err)
	}
}
