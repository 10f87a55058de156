package broker

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

const timerWait = 10 * time.Second // generous: a busy machine delays the goroutine

func newTestTimer(t *testing.T) *Timer {
	tm := NewTimer()
	t.Cleanup(tm.Close)
	return tm
}

// Entries fire in due order whatever order they were scheduled in, and
// entries due at the same time fire in scheduling order.
func TestTimerFiresInOrder(t *testing.T) {
	tm := newTestTimer(t)
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	base := time.Now().Add(20 * time.Millisecond)
	const n = 300
	type fired struct {
		when time.Time
		seq  int
	}
	var mu sync.Mutex
	var got []fired
	done := make(chan struct{})
	for i := 0; i < n; i++ {
		when := base.Add(time.Duration(r.IntN(10)) * 3 * time.Millisecond) // many ties
		i := i
		tm.At(when, func() {
			mu.Lock()
			got = append(got, fired{when, i})
			if len(got) == n {
				close(done)
			}
			mu.Unlock()
		})
	}
	select {
	case <-done:
	case <-time.After(timerWait):
		t.Fatalf("only %d of %d entries fired", len(got), n)
	}
	if !slices.IsSortedFunc(got, func(a, b fired) int {
		if c := a.when.Compare(b.when); c != 0 {
			return c
		}
		return a.seq - b.seq
	}) {
		t.Fatalf("fired out of order: %v", got)
	}
}

// An entry scheduled earlier than the one the goroutine sleeps for wakes it.
func TestTimerEarlierEntryWakes(t *testing.T) {
	tm := newTestTimer(t)
	tm.After(time.Hour, func() { t.Error("the hour-long entry fired") })
	fired := make(chan struct{})
	tm.After(5*time.Millisecond, func() { close(fired) })
	select {
	case <-fired:
	case <-time.After(timerWait):
		t.Fatal("an entry due in 5 ms did not fire while one an hour away was first")
	}
}

func TestTimerCancel(t *testing.T) {
	tm := newTestTimer(t)
	const n = 200
	var mu sync.Mutex
	ran := map[int]bool{}
	var wg sync.WaitGroup // the odd entries, never cancelled
	entries := make([]*TimerEntry, n)
	for i := range entries {
		i := i
		if i%2 == 1 {
			wg.Add(1)
		}
		entries[i] = tm.After(time.Duration(i%20)*time.Millisecond, func() {
			mu.Lock()
			ran[i] = true
			mu.Unlock()
			if i%2 == 1 {
				wg.Done()
			}
		})
	}
	cancelled := map[int]bool{}
	for i := 0; i < n; i += 2 {
		cancelled[i] = entries[i].Cancel() // false only if it fired already
	}
	waitGroup(t, &wg)
	mu.Lock()
	defer mu.Unlock()
	for i := 0; i < n; i += 2 {
		if cancelled[i] == ran[i] {
			t.Fatalf("entry %d: cancelled %v, ran %v", i, cancelled[i], ran[i])
		}
	}
	for i := 1; i < n; i += 2 {
		if !ran[i] {
			t.Fatalf("entry %d was not cancelled and did not run", i)
		}
		if entries[i].Cancel() {
			t.Fatalf("Cancel of fired entry %d reported true", i)
		}
	}
	if tm.Len() != 0 {
		t.Fatalf("%d entries left", tm.Len())
	}
}

func TestTimerCancelFarEntries(t *testing.T) {
	tm := newTestTimer(t)
	a := tm.After(time.Hour, func() {})
	b := tm.After(2*time.Hour, func() {})
	if tm.Len() != 2 {
		t.Fatalf("Len %d, want 2", tm.Len())
	}
	if !b.Cancel() || b.Cancel() {
		t.Fatal("second Cancel of an entry must report false, the first true")
	}
	if !a.Cancel() || tm.Len() != 0 {
		t.Fatalf("cancel: Len %d", tm.Len())
	}
}

// A function may schedule and cancel on its own timer (no lock is held
// while it runs).
func TestTimerReentrant(t *testing.T) {
	tm := newTestTimer(t)
	done := make(chan struct{})
	tm.After(0, func() {
		far := tm.After(time.Hour, func() {})
		far.Cancel()
		tm.After(time.Millisecond, func() { close(done) })
	})
	select {
	case <-done:
	case <-time.After(timerWait):
		t.Fatal("an entry scheduled from a running function did not fire")
	}
}

func TestTimerClose(t *testing.T) {
	tm := NewTimer()
	tm.After(time.Hour, func() { t.Error("entry ran after Close") })
	tm.Close()
	tm.Close() // twice is fine
	e := tm.After(0, func() { t.Error("entry scheduled after Close ran") })
	if e.Cancel() {
		t.Fatal("an entry scheduled after Close was pending")
	}
}

// Waiting entries cost a small struct each: no goroutine, no runtime timer.
// 200k of them schedule and cancel in well under a second.
func TestTimerManyEntriesCheap(t *testing.T) {
	tm := newTestTimer(t)
	const n = 200_000
	g0 := runtime.NumGoroutine()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	entries := make([]*TimerEntry, n)
	f := func() {}
	for i := range entries {
		entries[i] = tm.After(time.Hour+time.Duration(i)*time.Microsecond, f)
	}
	scheduled := time.Since(start)
	runtime.ReadMemStats(&after)
	perEntry := float64(after.TotalAlloc-before.TotalAlloc) / n
	if g := runtime.NumGoroutine(); g > g0+2 {
		t.Errorf("%d goroutines for %d entries (%d before)", g, n, g0)
	}
	for _, e := range entries {
		e.Cancel()
	}
	took := time.Since(start)
	t.Logf("%d entries: scheduled in %v, cancelled by %v, %.0f B/entry", n, scheduled, took, perEntry)
	if perEntry > 200 {
		t.Errorf("%.0f bytes per entry, want ≤ 200", perEntry)
	}
	if took > 5*time.Second && !raceEnabled { // the race detector slows every lock tenfold
		t.Errorf("scheduling and cancelling %d entries took %v", n, took)
	}
	if tm.Len() != 0 {
		t.Fatalf("%d left", tm.Len())
	}
}

func BenchmarkTimerScheduleCancel(b *testing.B) {
	tm := NewTimer()
	defer tm.Close()
	f := func() {}
	for i := 0; i < 10_000; i++ { // a standing population
		tm.After(time.Hour+time.Duration(i), f)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tm.After(time.Hour+time.Duration(i%1000), f).Cancel()
	}
}

func waitGroup(t *testing.T, wg *sync.WaitGroup) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timerWait):
		t.Fatal("entries did not fire in time")
	}
}
