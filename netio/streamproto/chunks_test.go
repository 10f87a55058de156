package streamproto

import (
	"bytes"
	"compress/gzip"
	"hash/crc32"
	"testing"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame/amqp10"
)

func TestChunkTrailer(t *testing.T) {
	entries := appendU32(nil, 3)
	entries = append(entries, "abc"...)
	for _, name := range []string{"", "producer-1"} {
		data := appendTrailer(append([]byte(nil), entries...), name, 77)
		got, crc, ok := chunkEntries(data)
		if !ok || !bytes.Equal(got, entries) || crc != crc32.ChecksumIEEE(entries) {
			t.Fatalf("%q: entries %q crc %x ok %v", name, got, crc, ok)
		}
		n, seq, ok := chunkTrailer(data)
		if name == "" {
			if ok {
				t.Fatalf("unnamed trailer has a name %q", n)
			}
			continue
		}
		if !ok || string(n) != name || seq != 77 {
			t.Fatalf("trailer %q %d %v", n, seq, ok)
		}
	}
	for _, bad := range [][]byte{nil, {0, 0, 0, 9}, {0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}} {
		if _, _, ok := chunkEntries(bad); ok {
			t.Fatalf("%x accepted", bad)
		}
	}
}

// A chunk with a simple entry and a gzip sub-entry batch reads, over
// 0-9-1, as its three messages in order; malformed batches are errors.
func TestDecodeForAMQP091(t *testing.T) {
	msg := func(s string) []byte { return amqp10.AppendData(nil, []byte(s)) }
	var plain bytes.Buffer
	for _, s := range []string{"two", "three"} {
		m := msg(s)
		plain.Write(appendU32(nil, uint32(len(m))))
		plain.Write(m)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(plain.Bytes())
	zw.Close()
	one := msg("one")
	data := append(appendU32(nil, uint32(len(one))), one...)
	data = append(data, SubEntryFlag|CompressionGzip<<4, 0, 2)
	data = appendU32(appendU32(data, uint32(plain.Len())), uint32(z.Len()))
	data = append(data, z.Bytes()...)
	data = appendTrailer(data, "", 0)
	var got []string
	if err := decodeForAMQP091(data, 2, func(i int, m *broker.StreamMessage) bool {
		got = append(got, string(m.Body))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != "one" || got[1] != "two" || got[2] != "three" {
		t.Fatalf("got %q", got)
	}
	// Truncations and a codec without a decompressor are errors, not panics.
	for cut := 1; cut < len(data)-8; cut += 3 {
		bad := appendTrailer(append([]byte(nil), data[:cut]...), "", 0)
		_ = decodeForAMQP091(bad, 2, func(int, *broker.StreamMessage) bool { return true })
	}
	lz := bytes.Replace(data, []byte{SubEntryFlag | CompressionGzip<<4}, []byte{SubEntryFlag | CompressionLz4<<4}, 1)
	if err := decodeForAMQP091(lz, 2, func(int, *broker.StreamMessage) bool { return true }); err == nil {
		t.Fatal("lz4 without a decompressor decoded")
	}
}
