package fast

import "testing"

func TestConfirmTracker(t *testing.T) {
	tr := newConfirmTracker(8)
	tr.settle(2, false, false) // out of order: nothing contiguous yet
	if got := tr.confirmed.Load(); got != 0 {
		t.Fatalf("confirmed %d", got)
	}
	tr.settle(1, false, false) // 1 and 2 now contiguous
	if got := tr.confirmed.Load(); got != 2 {
		t.Fatalf("confirmed %d", got)
	}
	tr.settle(4, false, true) // nack 4, 3 still open
	tr.settle(6, true, false) // multiple up to 6 settles 3, 5, 6 (4 already)
	if got := tr.confirmed.Load(); got != 6 {
		t.Fatalf("confirmed %d", got)
	}
	if got := tr.nacked.Load(); got != 1 {
		t.Fatalf("nacked %d", got)
	}
	tr.settle(3, false, false) // duplicate below base: ignored
	tr.settle(20, true, true)  // multiple nack over a full window
	if tr.confirmed.Load() != 20 || tr.nacked.Load() != 15 {
		t.Fatalf("confirmed %d nacked %d", tr.confirmed.Load(), tr.nacked.Load())
	}
	select {
	case <-tr.wake:
	default:
		t.Fatal("no wake-up")
	}
}
