//go:build linux

package main

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// TestStreamCrashRecovery: a publisher with confirms appends to a stream
// (small segments, so that kills land across segment boundaries) while
// the broker is killed with SIGKILL and restarted, several times. After
// every restart a consumer reads the stream from "first" and checks:
// every confirmed message is there, in publish order, offsets are
// contiguous, and every message seen after an earlier restart is still at
// the same offset. Runs of messages carry x-stream-filter-value "rare",
// and a consumer filtering on it gets exactly those, at the same offsets
// (through the block summaries of stream_index.go, rebuilt or reread
// after each kill).
func TestStreamCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	const stream = "crash-stream"
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var confirmed []int         // sequence numbers confirmed, in order
	offsetOf := map[int]int64{} // seq -> offset, as first read
	seq := 0
	for cycle := range 6 {
		p := startWarren(t, dir, procOptions{})
		conn, err := amqp.Dial(p.url)
		if err != nil {
			t.Fatal(err)
		}
		ch, err := conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ch.QueueDeclare(stream, true, false, false, false, amqp.Table{"x-queue-type": "stream", "x-stream-max-segment-size-bytes": int64(64 << 10)}); err != nil {
			t.Fatal(err)
		}
		checkStream(t, p.url, stream, confirmed, offsetOf, cycle)
		if err := ch.Confirm(false); err != nil {
			t.Fatal(err)
		}
		// Publish until killed.
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan []int)
		prng := rand.New(rand.NewPCG(rng.Uint64(), 9))
		go func() {
			var got []int
			type pending struct {
				seq int
				d   *amqp.DeferredConfirmation
			}
			var window []pending
			for ctx.Err() == nil {
				seq++
				body := strconv.Itoa(seq) + ":" + strings.Repeat("x", prng.IntN(3000))
				d, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", stream, false, false, amqp.Publishing{Body: []byte(body), DeliveryMode: amqp.Persistent,
					Headers: amqp.Table{"x-stream-filter-value": crashFilterValue(seq)}})
				if err != nil {
					break
				}
				window = append(window, pending{seq, d})
				for len(window) > 64 || (len(window) > 0 && window[0].d.Acked()) {
					w := window[0]
					wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
					ok, err := w.d.WaitContext(wctx)
					wcancel()
					if err != nil {
						done <- got
						return
					}
					if ok {
						got = append(got, w.seq)
					}
					window = window[1:]
				}
			}
			done <- got
		}()
		time.Sleep(time.Duration(200+rng.IntN(600)) * time.Millisecond)
		p.kill()
		cancel()
		got := <-done
		conn.Close()
		confirmed = append(confirmed, got...)
		t.Logf("cycle %d: %d confirmed in all", cycle, len(confirmed))
	}
	p := startWarren(t, dir, procOptions{})
	checkStream(t, p.url, stream, confirmed, offsetOf, 6)
	if len(confirmed) < 100 {
		t.Fatalf("only %d messages confirmed in 6 cycles: the test did not exercise much", len(confirmed))
	}
}

// checkStream reads the whole stream and checks it against what was
// confirmed and the offsets seen before.
func checkStream(t *testing.T, url, stream string, confirmed []int, offsetOf map[int]int64, cycle int) {
	t.Helper()
	conn, ds := consumeStream091(t, url, stream, "check", 500, amqp.Table{"x-stream-offset": "first"})
	defer conn.Close()
	var seen []int
	next := int64(0)
	last := 0
	for {
		var d amqp.Delivery
		select {
		case d = <-ds:
		case <-time.After(1500 * time.Millisecond):
			goto done
		}
		off, _ := d.Headers["x-stream-offset"].(int64)
		if off != next {
			t.Fatalf("cycle %d: offset %d after %d: offsets must be contiguous", cycle, off, next-1)
		}
		next++
		s, _, _ := strings.Cut(string(d.Body), ":")
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("cycle %d: garbled body at offset %d: %.40q", cycle, off, d.Body)
		}
		if n <= last {
			t.Fatalf("cycle %d: message %d at offset %d after message %d: out of order or duplicated", cycle, n, off, last)
		}
		last = n
		if was, ok := offsetOf[n]; ok && was != off {
			t.Fatalf("cycle %d: message %d moved from offset %d to %d", cycle, n, was, off)
		}
		offsetOf[n] = off
		seen = append(seen, n)
		if err := d.Ack(false); err != nil {
			t.Fatal(err)
		}
	}
done:
	have := map[int]bool{}
	for _, n := range seen {
		have[n] = true
	}
	for _, n := range confirmed {
		if !have[n] {
			t.Fatalf("cycle %d: confirmed message %d is missing (read %d messages)", cycle, n, len(seen))
		}
	}
	// Offsets seen before must all still be read.
	for n := range offsetOf {
		if !have[n] {
			t.Fatalf("cycle %d: message %d, read at offset %d before, is gone", cycle, n, offsetOf[n])
		}
	}
	var rare []int
	for _, n := range seen {
		if crashFilterValue(n) == "rare" {
			rare = append(rare, n)
		}
	}
	checkStreamFiltered(t, url, stream, rare, offsetOf, cycle)
}

// crashFilterValue is message n's x-stream-filter-value: runs of 40 in
// every 1,000 are "rare".
func crashFilterValue(n int) string {
	if n%1000 >= 500 && n%1000 < 540 {
		return "rare"
	}
	return "common-" + strconv.Itoa(n%5)
}

// checkStreamFiltered reads the stream from first filtered on "rare" and
// checks it gets exactly want (sequence numbers), at their offsets.
func checkStreamFiltered(t *testing.T, url, stream string, want []int, offsetOf map[int]int64, cycle int) {
	t.Helper()
	conn, ds := consumeStream091(t, url, stream, "check-filtered", 500, amqp.Table{"x-stream-offset": "first", "x-stream-filter": "rare"})
	defer conn.Close()
	i := 0
	for {
		var d amqp.Delivery
		select {
		case d = <-ds:
		case <-time.After(1500 * time.Millisecond):
			if i != len(want) {
				t.Fatalf("cycle %d: the filtered consumer got %d of %d rare messages", cycle, i, len(want))
			}
			return
		}
		off, _ := d.Headers["x-stream-offset"].(int64)
		s, _, _ := strings.Cut(string(d.Body), ":")
		n, _ := strconv.Atoi(s)
		if i >= len(want) || n != want[i] || off != offsetOf[n] {
			t.Fatalf("cycle %d: filtered delivery %d is message %d at offset %d, want one of %d rare messages in order at their offsets", cycle, i, n, off, len(want))
		}
		i++
		if err := d.Ack(false); err != nil {
			t.Fatal(err)
		}
	}
}
