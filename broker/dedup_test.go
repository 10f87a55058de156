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

// BenchmarkDedupPublish: the broker's share of a publish through a fanout
// exchange into a consumed queue, with every message carrying a new
// deduplication value, without deduplication, with it on the exchange (a
// small and a large cache) and on the queue.
func BenchmarkDedupPublish(b *testing.B) {
	const keys = 1 << 20
	props := make([][]byte, keys)
	for i := range props {
		props[i] = dedupProps(fmt.Sprintf("msg-%d", i), nil)
	}
	for _, tc := range []struct {
		name        string
		xArgs, qArg frame.Table
	}{
		{"none", nil, nil},
		{"exchange/cache=128", frame.Table{"x-message-deduplication": true}, nil},
		{"exchange/cache=1M", frame.Table{"x-message-deduplication": true, "x-cache-size": int32(keys)}, nil},
		{"queue", nil, frame.Table{"x-message-deduplication": true}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			br := openTestBroker(b)
			v, _ := br.VHost("/")
			if err := v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "fx", Type: "fanout", Args: tc.xArgs}); err != nil {
				b.Fatal(err)
			}
			q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "bench", Args: tc.qArg})
			if err != nil {
				b.Fatal(err)
			}
			if err := v.QueueBind(guest, Binding{Source: "fx", Destination: "bench"}, 0); err != nil {
				b.Fatal(err)
			}
			d := &ackingDeliverer{}
			if err := q.AddConsumer(&Consumer{Tag: "c", D: d}, nil); err != nil {
				b.Fatal(err)
			}
			m := Message{Exchange: []byte("fx"), Body: make([]byte, 16)}
			var cache PublishCache
			var scratch []*Queue
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				m.Props = props[i%keys]
				var res PublishResult
				res, scratch, err = v.Publish(guest, &m, &cache, scratch)
				if err != nil || (res.Routed != 1 && i < keys) {
					b.Fatal(i, res, err)
				}
				q.Ack(d.last)
			}
		})
	}
}

// rawInt reads every integer type the dedup arguments may use, signed
// ones sign-extended, and refuses others and short values.
func TestRawInt(t *testing.T) {
	for _, c := range []struct {
		tag  byte
		v    []byte
		want int64
		ok   bool
	}{
		{'b', []byte{0xff}, -1, true},
		{'B', []byte{0xff}, 255, true},
		{'s', []byte{0xff, 0xfe}, -2, true},
		{'u', []byte{0xff, 0xfe}, 65534, true},
		{'I', []byte{0x80, 0, 0, 0}, -1 << 31, true},
		{'i', []byte{0x80, 0, 0, 0}, 1 << 31, true},
		{'l', []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd}, -3, true},
		{'l', []byte{0, 0, 0, 1, 0, 0, 0, 0}, 1 << 32, true},
		{'I', []byte{0, 0, 1}, 0, false},
		{'S', []byte{0, 0, 0, 1, 'x'}, 0, false},
	} {
		if got, ok := rawInt(c.tag, c.v); got != c.want || ok != c.ok {
			t.Errorf("rawInt(%c, %x) = %d, %v; want %d, %v", c.tag, c.v, got, ok, c.want, c.ok)
		}
	}
}
