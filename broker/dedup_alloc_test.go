package broker

import (
	"fmt"
	"testing"

	"github.com/warrenmq/warren/frame"
)

// Checking a message against the cache, remembering its value and
// forgetting it again read the headers in place: no allocation, with or
// without other headers around the deduplication one, with a per-message
// x-cache-ttl.
func TestDedupSeenAllocatesNothing(t *testing.T) {
	c := newDedupCache(1024, 0, dedupHeader)
	props := make([][]byte, 4096)
	for i := range props {
		h := frame.Table{dedupHeader: fmt.Sprintf("v-%d", i), "other": int32(i), "x-cache-ttl": int32(60000)}
		props[i] = frame.AppendProperties(nil, &frame.Properties{Headers: h, MessageID: "m"})
	}
	i := 0
	allocs := testing.AllocsPerRun(10000, func() {
		p := props[i%len(props)]
		i++
		if !c.seen(p) {
			c.forget(p)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per seen+forget, want 0", allocs)
	}
}

// Values hash as they did when the cache decoded the headers into a
// table, so an x-cache-persistence file written before stays valid: a
// string is 'S' and its text, a binary 'x' and its bytes, an integer of any
// width 'l' and its 8 bytes, little endian (FNV-1a 64).
func TestDedupKeyCompatible(t *testing.T) {
	fnv := func(b ...byte) uint64 {
		h := uint64(fnvOffset)
		for _, c := range b {
			h = (h ^ uint64(c)) * fnvPrime
		}
		return h
	}
	c := newDedupCache(16, 0, dedupHeader)
	for _, tc := range []struct {
		v    any
		want uint64
	}{
		{"abc", fnv('S', 'a', 'b', 'c')},
		{[]byte{1, 2}, fnv('x', 1, 2)},
		{int8(-2), fnv('l', 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)},
		{int32(258), fnv('l', 2, 1, 0, 0, 0, 0, 0, 0)},
		{int64(258), fnv('l', 2, 1, 0, 0, 0, 0, 0, 0)},
		{uint16(258), fnv('l', 2, 1, 0, 0, 0, 0, 0, 0)},
	} {
		p := dedupProps(tc.v, nil)
		f, ok := frame.PropsHeaderField(p, c.header)
		if !ok {
			t.Fatalf("%#v: header not found", tc.v)
		}
		if got := dedupKeyRaw(f.Tag, f.Value); got != tc.want {
			t.Errorf("%#v hashes to %x, want %x", tc.v, got, tc.want)
		}
	}
}
