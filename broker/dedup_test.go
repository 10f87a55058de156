package broker

import (
	"fmt"
	"testing"
	"time"

	"github.com/warrenmq/warren/frame"
)

func dedupProps(key any, ttl any) []byte {
	h := frame.Table{dedupHeader: key}
	if ttl != nil {
		h["x-cache-ttl"] = ttl
	}
	return frame.AppendProperties(nil, &frame.Properties{Headers: h})
}

// The cache never holds more than its size however many values go by, and
// evicts the oldest first.
func TestDedupCacheBoundedFIFO(t *testing.T) {
	c := newDedupCache(100, 0, dedupHeader)
	for i := range 100_000 {
		if c.seen(dedupProps(fmt.Sprint(i), nil)) {
			t.Fatalf("value %d taken for a duplicate", i)
		}
		if n := c.len(); n > 100 {
			t.Fatalf("cache holds %d values, size 100", n)
		}
	}
	if c.len() != 100 {
		t.Fatalf("cache holds %d, want 100", c.len())
	}
	if !c.seen(dedupProps("99999", nil)) || !c.seen(dedupProps("99900", nil)) {
		t.Fatal("the newest 100 values are not remembered")
	}
	if c.seen(dedupProps("99899", nil)) {
		t.Fatal("an evicted value is still remembered")
	}
}

// A forgotten value (its message left a queue) frees its slot and is new again.
func TestDedupCacheForget(t *testing.T) {
	c := newDedupCache(4, 0, dedupHeader)
	c.seen(dedupProps("a", nil))
	c.forget(dedupProps("a", nil))
	if c.len() != 0 || c.seen(dedupProps("a", nil)) {
		t.Fatal("forgotten value still remembered")
	}
	c.reset()
	if c.len() != 0 {
		t.Fatal("reset left values")
	}
}

// A message's x-cache-ttl bounds how long its value is remembered.
func TestDedupCacheTTLHeader(t *testing.T) {
	c := newDedupCache(4, 0, dedupHeader)
	if c.seen(dedupProps("a", int32(1))) || c.seen(dedupProps("b", nil)) {
		t.Fatal("new values taken for duplicates")
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.seen(dedupProps("a", int32(1))) {
		if time.Now().After(deadline) {
			t.Fatal("a 1 ms entry never expired")
		}
		time.Sleep(time.Millisecond)
	}
	if !c.seen(dedupProps("b", nil)) {
		t.Fatal("b, with no TTL, was forgotten")
	}
}
