package router

import (
	"fmt"
	"runtime"
	"testing"
)

// A broker with 100,000 queues, each bound to one direct exchange with its
// own key (a queue per user or device), binds every queue in O(1): little
// garbage per queue.bind and little memory per binding kept. Copy-on-write
// of the key map made each bind copy O(√n) slots, ~30 KB of garbage per
// bind at this size, and the per-binding bookkeeping (nested maps) kept
// ~900 bytes per binding.
func TestBindScale(t *testing.T) {
	if raceEnabled {
		t.Skip("measures memory and time, which the race detector inflates; the concurrency is covered by the other tests")
	}
	const n = 100_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("user.%07d", i)
	}
	// Queues are pointers, as the broker's *Queue.
	qs := make([]*int, n)
	for i := range qs {
		qs[i] = new(int)
	}
	r := New[*int]()
	must(t, r.AddExchange("d", KindDirect))

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i, k := range keys {
		must(t, r.Bind("d", qs[i], k, nil))
	}
	runtime.ReadMemStats(&after)
	allocated := float64(after.TotalAlloc-before.TotalAlloc) / n
	runtime.GC()
	runtime.ReadMemStats(&after)
	live := (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / n
	t.Logf("per binding: %.0f bytes allocated, %.0f bytes live", allocated, live)
	if allocated > 1024 {
		t.Errorf("%.0f bytes allocated per bind at %d bindings, want <= 1024", allocated, n)
	}
	if live > 400 {
		t.Errorf("%.0f bytes live per binding, want <= 400", live)
	}

	for _, i := range []int{0, n / 2, n - 1} {
		if got := r.Route("d", []byte(keys[i]), nil, nil); len(got) != 1 || got[0] != qs[i] {
			t.Fatalf("route %s: %v", keys[i], got)
		}
	}
	// Deleting every queue is O(1) each too, and leaves nothing behind.
	for _, q := range qs {
		r.RemoveQueue(q)
	}
	x := r.lookup("d")
	if x.keys.len() != 0 || len(x.dests) != 0 || len(r.byQueue) != 0 || r.HasBindings("d") {
		t.Fatalf("left after removing every queue: %d keys, %d dests, %d queues", x.keys.len(), len(x.dests), len(r.byQueue))
	}
	runtime.KeepAlive(qs)
}
