package netio

import "testing"

// Only the drain poller's own wakes that find the socket no emptier back
// it off: deliveries wake a held connection far more often, and when they
// counted, a consumer held for a moment was polled every 64 ms.
func TestDrainStallsCountPollsOnly(t *testing.T) {
	c := &Conn{t: &fakeTransport{}}
	c.holdOutput(100 << 10) // the hold starts: a poll is asked for
	for range 20 {
		c.out.draining.Store(true) // that poll is still pending
		c.holdOutput(100 << 10)
	}
	if c.out.drainStalls != 0 {
		t.Fatalf("%d stalls counted from wakes between polls", c.out.drainStalls)
	}
	for i := range 3 {
		c.out.draining.Store(false) // the poller woke it
		c.holdOutput(100 << 10)
		if want := uint8(i + 1); c.out.drainStalls != want {
			t.Fatalf("poll %d found no progress: %d stalls, want %d", i+1, c.out.drainStalls, want)
		}
	}
	c.out.draining.Store(false)
	c.holdOutput(50 << 10) // it drained some
	if c.out.drainStalls != 0 {
		t.Fatalf("a poll found the backlog smaller, yet %d stalls", c.out.drainStalls)
	}
	c.out.draining.Store(false)
	c.holdOutput(50 << 10)
	c.TakeOutput() // a flush went out: the next hold starts afresh
	c.out.draining.Store(false)
	c.holdOutput(50 << 10)
	if c.out.drainStalls != 0 {
		t.Fatalf("a new hold after a flush starts with %d stalls", c.out.drainStalls)
	}
}
