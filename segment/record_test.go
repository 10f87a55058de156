package segment

import (
	"bytes"
	"errors"
	"testing"
)

func testRecord(i int, body []byte) *Record {
	return &Record{
		Timestamp:  int64(1700000000000 + i),
		Flags:      FlagPersistent,
		Exchange:   []byte("amq.direct"),
		RoutingKey: []byte("key"),
		Props:      []byte{0x90, 0x00, 0x0a, 't', 'e', 'x', 't', '/', 'p', 'l', 'a', 'i', 'n', 2},
		Body:       body,
	}
}

func equalRecord(a, b *Record) bool {
	return a.Timestamp == b.Timestamp && a.Flags == b.Flags && bytes.Equal(a.Exchange, b.Exchange) &&
		bytes.Equal(a.RoutingKey, b.RoutingKey) && bytes.Equal(a.Props, b.Props) && bytes.Equal(a.Body, b.Body)
}

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range []*Record{
		testRecord(1, []byte("hello")),
		{Timestamp: -5},
		{Exchange: bytes.Repeat([]byte{'e'}, 255), RoutingKey: bytes.Repeat([]byte{'k'}, 255), Body: make([]byte, 3)},
	} {
		n := RecordSize(r)
		if n%recordAlign != 0 || n < HeaderSize {
			t.Fatalf("size %d", n)
		}
		buf := make([]byte, n+16)
		encode(buf[:n], r)
		got, size, err := decode(buf)
		if err != nil || int64(size) != n || !equalRecord(&got, r) {
			t.Fatalf("got %+v size %d err %v", got, size, err)
		}
		if cap(got.Body) != len(got.Body) {
			t.Fatal("views must not be appendable into the mapping")
		}
	}
}

// Every single-bit flip in a record is caught: by the checksum, or by the
// length pointing somewhere that does not check out.
func TestRecordDetectsEveryBitFlip(t *testing.T) {
	r := testRecord(7, []byte("some body bytes"))
	n := RecordSize(r)
	clean := make([]byte, n)
	encode(clean, r)
	used := prefixSize + HeaderSize - prefixSize + len(r.Exchange) + len(r.RoutingKey) + len(r.Props) + len(r.Body)
	for i := 0; i < used; i++ {
		for bit := 0; bit < 8; bit++ {
			b := bytes.Clone(clean)
			b[i] ^= 1 << bit
			if _, _, err := decode(b); err == nil {
				t.Fatalf("flip of byte %d bit %d not detected", i, bit)
			}
		}
	}
}

func TestDecodeEndAndPadding(t *testing.T) {
	if _, _, err := decode(make([]byte, 64)); !errors.Is(err, errEnd) {
		t.Fatalf("zeros: %v", err)
	}
	b := make([]byte, 48)
	encodePadding(b)
	r, n, err := decode(b)
	if err != nil || n != 48 || r.Flags&flagPadding == 0 {
		t.Fatalf("padding: %v %d %v", r, n, err)
	}
}
