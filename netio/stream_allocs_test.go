package netio_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/warrenmq/warren/bench/fast"
	"github.com/warrenmq/warren/bench/wire"
)

// TestStreamDeliveryAllocs: publishing to a stream with confirms, and a 0-9-1 consumer reading a stream from first
// (chunk read, entry decode, x-stream-offset header, deliver, multiple
// ack) allocates nothing per message once warmed up, counted over the
// whole process; the raw-frame client allocates nothing itself.
func TestStreamDeliveryAllocs(t *testing.T) {
	needLocal(t)
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	const warm, n = 20_000, 100_000
	_, ch := connChan(t)
	q := declareStream(t, ch, "s", nil)
	pc, err := fast.Dial(amqpURL, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	p, err := fast.NewPublisher(pc, fast.PublisherConfig{Keys: []string{q}, Size: 64, Persistent: true, Confirms: 10000})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sent := 0
	publish := func(k int) {
		for end := sent + k; sent < end; {
			if err := p.WaitConfirmed(ctx, uint64(max(0, sent+p.MaxBatch()-10000))); err != nil {
				t.Fatal(err)
			}
			b := min(p.MaxBatch(), end-sent)
			if err := p.Publish(b); err != nil {
				t.Fatal(err)
			}
			sent += b
		}
		if err := p.WaitConfirmed(ctx, uint64(sent)); err != nil {
			t.Fatal(err)
		}
	}
	publish(warm)
	allocsPerMsg(t, "stream publish with confirms", n, func() { publish(n) })
	c, err := fast.Dial(amqpURL, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Call(wire.AppendBasicQos(nil, fast.Channel, 1000), wire.BasicQosOk); err != nil {
		t.Fatal(err)
	}
	req, s := wire.AppendMethodHeader(nil, fast.Channel, wire.BasicConsume)
	req = wire.AppendShort(req, 0)
	req = wire.AppendShortstr(req, q)
	req = wire.AppendShortstr(req, "allocs")
	req = append(req, wire.Bits(false, false, false, false))
	req = wire.AppendTable(req, wire.Table{{Key: "x-stream-offset", Value: "first"}})
	req = wire.EndFrame(req, s)
	if _, err := c.Call(req, wire.BasicConsumeOk); err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	ack := make([]byte, 0, 64)
	read := func(k int) {
		for got := 0; got < k; {
			f, err := c.Next()
			if err != nil {
				t.Fatalf("after %d: %v", got, err)
			}
			if f.Type != wire.FrameMethod {
				continue
			}
			id, args, _ := wire.Method(f.Payload)
			if id != wire.BasicDeliver {
				continue
			}
			d, err := wire.ParseDeliver(args)
			if err != nil {
				t.Fatal(err)
			}
			if got++; got%100 == 0 {
				if err := c.QueueWrite(wire.AppendBasicAck(ack[:0], fast.Channel, d.Tag, true)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	read(warm)
	allocsPerMsg(t, "stream delivery", n, func() { read(n) })
}

// allocsPerMsg runs f (n messages) and fails when the whole process
// allocated hotPathMaxAllocs times per message or more meanwhile.
func allocsPerMsg(t *testing.T, what string, n int, f func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	perMsg := float64(after.Mallocs-before.Mallocs) / float64(n)
	t.Logf("%s: %d allocations over %d messages, %.4f allocs/msg", what, after.Mallocs-before.Mallocs, n, perMsg)
	if perMsg >= hotPathMaxAllocs {
		t.Errorf("%s allocates %.4f times per message, want < %v", what, perMsg, hotPathMaxAllocs)
	}
}
