package netio

import "testing"

// A kept output buffer sized for a burst is let go once flushes have used
// little of it for a while, and kept as long as they use a fair part of
// it. Before, a connection kept the biggest buffer it ever needed (up to
// three budgets) for as long as it stayed busy.
func TestOversizedOutputBufferLetGo(t *testing.T) {
	c := &Conn{}
	big := make([]byte, 1<<20)
	flush := func(n int) bool { return c.keepBuffer(big[:n]) }
	for i := range 3 * oversizedAfter {
		if !flush(512 << 10) {
			t.Fatalf("flush %d used half the buffer, and it was dropped", i)
		}
	}
	for i := range oversizedAfter - 1 {
		if !flush(1 << 10) {
			t.Fatalf("small flush %d: the buffer was dropped before %d small flushes in a row", i, oversizedAfter)
		}
	}
	if !flush(300 << 10) {
		t.Fatal("a flush using over a quarter was not kept")
	}
	for i := range oversizedAfter - 1 {
		if !flush(1 << 10) {
			t.Fatalf("small flush %d after a big one: dropped too early", i)
		}
	}
	if flush(1 << 10) {
		t.Fatalf("a 1 MiB buffer still kept after %d flushes of 1 KiB", oversizedAfter)
	}
	small := make([]byte, 1<<10, 32<<10)
	for i := range 2 * oversizedAfter {
		if !c.keepBuffer(small) {
			t.Fatalf("flush %d: a 32 KiB buffer was dropped", i)
		}
	}
}

// While many connections share the budget, a big buffer goes after
// oversizedAfterShared small flushes, not oversizedAfter.
func TestOversizedOutputBufferShared(t *testing.T) {
	busyConns.Add(8)
	defer busyConns.Add(-8)
	if !budgetShared() {
		t.Fatal("8 busy connections do not share the budget")
	}
	c := &Conn{}
	big := make([]byte, 512<<10) // under maxKeptBuffer (768 KiB for 8 busy)
	for i := range oversizedAfterShared - 1 {
		if !c.keepBuffer(big[:1<<10]) {
			t.Fatalf("small flush %d: dropped before %d small flushes in a row", i, oversizedAfterShared)
		}
	}
	if c.keepBuffer(big[:1<<10]) {
		t.Fatalf("a 512 KiB buffer still kept after %d small flushes with the budget shared", oversizedAfterShared)
	}
}

// A connection alone doubles a buffer short of room (not past its budget),
// but leaves growth to append while the budget is shared: 32 consumers
// doubling theirs in the 32p/32c case made garbage faster than the GC
// gave it back (RSS 75-95 MB in a third of the runs, 37-54 MB without).
func TestLockOutForGrowth(t *testing.T) {
	grow := func(have, want int) int {
		c := &Conn{}
		c.out.buf = make([]byte, have)
		b := c.lockOutFor(want)
		c.outMu.Unlock()
		return cap(b)
	}
	if got := grow(64<<10, 1<<10); got < 128<<10 {
		t.Fatalf("alone: a full 64 KiB buffer grew to %d, want it doubled", got)
	}
	// Not doubled to 1.5 MiB: the budget (append's last step of a quarter
	// may round it up).
	if got := grow(768<<10, 1<<10); got > outputBudget*5/4 {
		t.Fatalf("alone: a 768 KiB buffer grew to %d, past the %d budget", got, outputBudget)
	}
	busyConns.Add(8)
	defer busyConns.Add(-8)
	if got := grow(64<<10, 1<<10); got != 64<<10 {
		t.Fatalf("shared: a 64 KiB buffer grew to %d in lockOutFor, want append to grow it", got)
	}
}
