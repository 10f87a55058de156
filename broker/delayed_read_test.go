package broker

import (
	"testing"
	"time"
)

// Reading a bucket into the due heap goes a chunk per timer run, so a
// big bucket never holds the timer (and the firing of the bucket before
// it) for the whole read: the first run reads at most delayLoadChunk
// records, the rest follow in later runs, and every message still fires,
// in due order, from the arena copy made while reading.
func TestDelayedBucketReadInChunks(t *testing.T) {
	const n = 20000
	// All n messages must land in one bucket however long publishing
	// takes: a fixed 3 s delay with 1 s buckets straddled a boundary
	// whenever the loop crossed a second (CI saw "2 buckets"). With 5 s
	// buckets and the first message due just after a boundary at least
	// 2 s out, publishing has ~4.9 s before the next bucket begins.
	defer func(w int64) { delayBucketWidth = w }(delayBucketWidth)
	delayBucketWidth = 5000
	now := nowMs()
	boundary := now - now%delayBucketWidth + delayBucketWidth
	if boundary-now < 2*delayLoadAhead {
		boundary += delayBucketWidth
	}
	delay := boundary + 100 - now
	b := openTestBroker(t)
	v, d, q := setupDelayed(t, b, false)
	defer func(ahead int64) {
		d.mu.Lock()
		delayLoadAhead = ahead
		d.mu.Unlock()
	}(delayLoadAhead)
	var cache PublishCache
	var scratch []*Queue
	t0 := time.Now()
	for range n {
		scratch = publishDelayed(t, v, delay, false, &cache, scratch)
	}
	t.Logf("published %d in %v", n, time.Since(t0))
	d.mu.Lock()
	waiting := len(d.waiting)
	d.mu.Unlock()
	if waiting != 1 {
		t.Fatalf("%d buckets waiting to be read, want 1 (the messages' bucket is not near yet)", waiting)
	}

	// The bucket comes into reading range now.
	d.mu.Lock()
	delayLoadAhead = 60_000
	d.mu.Unlock()
	d.fire()
	d.mu.Lock()
	read := len(d.due)
	d.mu.Unlock()
	if read == 0 || read >= n/2 {
		t.Fatalf("one timer run read %d of the bucket's %d records, want a chunk or a few", read, n)
	}
	waitFor(t, "all fired", func() bool { return d.Pending() == 0 && q.Ready() == n })
	var last int64
	for i := 0; i < n; i++ {
		var ts int64
		if !q.Get(true, func(_ Ticket, dl Delivery, _ int) { ts = dl.Timestamp }) {
			t.Fatalf("queue empty after %d", i)
		}
		if ts < last {
			t.Fatalf("message %d fired at %d, before the one before it (%d)", i, ts, last)
		}
		last = ts
	}
}
