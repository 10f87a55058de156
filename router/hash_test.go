package router

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

func hashFixture(t *testing.T, weights map[string]string) *Router[string] {
	t.Helper()
	r := New[string]()
	must(t, r.AddExchange("h", KindConsistentHash))
	for q, w := range weights {
		must(t, r.Bind("h", q, w, nil))
	}
	return r
}

// spread routes n keys and counts the queues they reach.
func spread(t *testing.T, r *Router[string], n int) (map[string]int, map[int]string) {
	t.Helper()
	counts, where := map[string]int{}, map[int]string{}
	for i := range n {
		got := r.Route("h", fmt.Appendf(nil, "key-%d", i), nil, nil)
		if len(got) != 1 {
			t.Fatalf("key-%d routed to %v, want exactly one queue", i, got)
		}
		counts[got[0]]++
		where[i] = got[0]
	}
	return counts, where
}

func TestConsistentHashWeights(t *testing.T) {
	r := hashFixture(t, map[string]string{"a": "1", "b": "2", "c": "5"})
	const n = 80000
	counts, _ := spread(t, r, n)
	for q, w := range map[string]float64{"a": 1, "b": 2, "c": 5} {
		want := n * w / 8
		if got := float64(counts[q]); math.Abs(got-want) > want*0.05 {
			t.Errorf("queue %s got %v of %d keys, want about %v (weight %v of 8)", q, got, n, want, w)
		}
	}
}

// Adding a binding moves only the keys it takes over; removing the last
// one moves them back and no other.
func TestConsistentHashStable(t *testing.T) {
	r := hashFixture(t, map[string]string{"a": "10", "b": "10", "c": "10"})
	const n = 30000
	_, before := spread(t, r, n)
	must(t, r.Bind("h", "d", "10", nil))
	counts, after := spread(t, r, n)
	moved := 0
	for i, q := range before {
		if after[i] != q {
			if after[i] != "d" {
				t.Fatalf("key-%d moved from %s to %s, not to the new queue", i, q, after[i])
			}
			moved++
		}
	}
	if want := n / 4; math.Abs(float64(moved-want)) > float64(want)*0.1 || counts["d"] != moved {
		t.Fatalf("%d keys moved (d has %d), want about %d", moved, counts["d"], want)
	}
	must(t, r.Unbind("h", "d", "10", nil))
	if _, again := spread(t, r, n); !mapsEqual(again, before) {
		t.Fatal("removing the new binding did not restore the old distribution")
	}
}

func mapsEqual(a, b map[int]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestConsistentHashBindings(t *testing.T) {
	r := hashFixture(t, map[string]string{"a": "3"})
	for _, bad := range []string{"", "x", "0", "-1", "10001"} {
		if err := r.Bind("h", "b", bad, nil); !errors.Is(err, ErrInvalidArgs) {
			t.Errorf("binding key %q: err %v, want ErrInvalidArgs", bad, err)
		}
	}
	// A second binding of a queue keeps its buckets; the queue leaves the
	// ring with its last binding.
	must(t, r.Bind("h", "a", "7", nil))
	must(t, r.Bind("h", "b", "3", nil))
	counts, _ := spread(t, r, 6000)
	if counts["a"] < 2500 || counts["b"] < 2500 {
		t.Fatalf("a's second binding changed its weight: %v", counts)
	}
	must(t, r.Unbind("h", "a", "3", nil))
	if counts, _ = spread(t, r, 100); counts["a"] == 0 {
		t.Fatal("a left the ring while it still has a binding")
	}
	must(t, r.Unbind("h", "a", "7", nil))
	if counts, _ = spread(t, r, 100); counts["b"] != 100 {
		t.Fatalf("after a's last unbind: %v", counts)
	}
	must(t, r.Unbind("h", "b", "3", nil))
	if got := r.Route("h", []byte("k"), nil, nil); len(got) != 0 {
		t.Fatalf("empty ring routed to %v", got)
	}
}

// An exchange bound into the ring gets its share and routes it on.
func TestConsistentHashToExchange(t *testing.T) {
	r := hashFixture(t, map[string]string{"a": "1"})
	must(t, r.AddExchange("f", KindFanout))
	must(t, r.Bind("f", "via-f", "", nil))
	must(t, r.BindExchange("h", "f", "1", nil))
	counts, _ := spread(t, r, 2000)
	if counts["a"] < 800 || counts["via-f"] < 800 {
		t.Fatalf("exchange destination: %v", counts)
	}
}

func TestConsistentHashRouteAllocs(t *testing.T) {
	r := hashFixture(t, map[string]string{"a": "1", "b": "20", "c": "300"})
	dst := make([]string, 0, 4)
	key := []byte("some.routing.key")
	if n := testing.AllocsPerRun(1000, func() { dst = r.Route("h", key, nil, dst[:0]) }); n != 0 {
		t.Fatalf("%v allocs per Route", n)
	}
}

func BenchmarkRouteConsistentHash(b *testing.B) {
	r := New[string]()
	if err := r.AddExchange("h", KindConsistentHash); err != nil {
		b.Fatal(err)
	}
	for i := range 64 {
		if err := r.Bind("h", fmt.Sprint("q", i), "10", nil); err != nil {
			b.Fatal(err)
		}
	}
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "order-%d", i)
	}
	dst := make([]string, 0, 4)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		dst = r.Route("h", keys[i%len(keys)], nil, dst[:0])
	}
}
