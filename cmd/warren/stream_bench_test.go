//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/bench/fast"
	"github.com/warrenmq/warren/bench/wire"
)

// TestStreamBench measures streams over AMQP 0-9-1 (docs/BENCHMARKS.md,
// "Streams over AMQP 0-9-1"). It runs only with WARREN_STREAM_BENCH=1:
//
//	WARREN_STREAM_BENCH=1 [WARREN_STREAM_N=10000000] [WARREN_STREAM_CMP_N=1000000] \
//	  [WARREN_STREAM_RABBITMQ=amqp://guest:guest@localhost:5672/] \
//	  go test -run TestStreamBench -v -timeout 60m ./cmd/warren
//
// Warren: fill a stream (x-max-length-bytes 100 GB) with N messages of
// 100 B (4 publishers with confirms), RSS after the fill; restart (SIGTERM, then SIGKILL) and the
// time from exec to the first delivery from "first"; then 0-9-1 consume
// throughput from first over the whole stream. Against RabbitMQ (if
// WARREN_STREAM_RABBITMQ is set): the same fill and consume of CMP_N
// messages on each broker, one after the other in the same run.
func TestStreamBench(t *testing.T) {
	if os.Getenv("WARREN_STREAM_BENCH") != "1" {
		t.Skip("WARREN_STREAM_BENCH=1 runs the stream benchmark")
	}
	n := envInt("WARREN_STREAM_N", 10_000_000)
	cmpN := envInt("WARREN_STREAM_CMP_N", 1_000_000)
	dir := t.TempDir()
	p := startWarren(t, dir, procOptions{})
	const big = "bench-stream"
	declareBenchStream(t, p.url, big, amqp.Table{"x-max-length-bytes": int64(100e9)}) // a 100 GB retention window
	start := time.Now()
	fillStream(t, p.url, big, n, 100)
	fill := time.Since(start)
	t.Logf("warren: filled %d x 100 B in %v (%.0f msg/s)", n, fill, float64(n)/fill.Seconds())
	t.Logf("warren: RSS after the fill %d MiB; data dir %d MiB", rssMiB(t, p.cmd.Process.Pid), duMiB(dir))

	// SIGKILL first, right after the fill: the head segment is unsealed
	// and recovery scans it; then an orderly stop and start.
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		if sig == syscall.SIGKILL {
			p.kill()
		} else if _, ok := p.signal(sig, 60*time.Second); !ok {
			t.Fatal("warren did not stop")
		}
		begin := time.Now()
		p = startWarren(t, dir, procOptions{})
		first := firstDelivery(t, p.url, big)
		t.Logf("warren: after %v, exec to \"warren started\" %v, exec to the first delivery from first %v; RSS %d MiB",
			sig, p.ready, first.Sub(begin), rssMiB(t, p.cmd.Process.Pid))
	}
	rate, got := consumeAll(t, p.url, big, n)
	t.Logf("warren: consumed %d from first at %.0f msg/s (amqp091-go, prefetch 1000, multiple ack every 500); RSS %d MiB",
		got, rate, rssMiB(t, p.cmd.Process.Pid))
	rate, got = consumeRaw(t, p.url, big, n)
	t.Logf("warren: consumed %d from first at %.0f msg/s (raw-frame client, prefetch 2000, multiple ack every 500); RSS %d MiB",
		got, rate, rssMiB(t, p.cmd.Process.Pid))

	rmq := os.Getenv("WARREN_STREAM_RABBITMQ")
	if rmq == "" {
		return
	}
	for _, b := range []struct{ name, url string }{{"warren", p.url}, {"rabbitmq", rmq}} {
		q := fmt.Sprintf("bench-stream-cmp-%d", time.Now().UnixNano())
		declareBenchStream(t, b.url, q, nil)
		start := time.Now()
		fillStream(t, b.url, q, cmpN, 100)
		fill := time.Since(start)
		rate, got := consumeAll(t, b.url, q, cmpN)
		raw, rawGot := consumeRaw(t, b.url, q, cmpN)
		t.Logf("%s: %d x 100 B: fill %.0f msg/s, consume from first %.0f msg/s with amqp091-go (%d read), %.0f msg/s with the raw-frame client (%d read)",
			b.name, cmpN, float64(cmpN)/fill.Seconds(), rate, got, raw, rawGot)
		deleteQueue(t, b.url, q)
	}
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

func declareBenchStream(t *testing.T, url, q string, args amqp.Table) {
	t.Helper()
	c, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	a := amqp.Table{"x-queue-type": "stream"}
	for k, v := range args {
		a[k] = v
	}
	if _, err := ch.QueueDeclare(q, true, false, false, false, a); err != nil {
		t.Fatal(err)
	}
}

func deleteQueue(t *testing.T, url, q string) {
	c, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	_, _ = ch.QueueDelete(q, false, false, false)
}

// fillStream publishes n messages of size bytes to q from 4 connections
// with confirms (window 20000 each) and waits for every confirm.
func fillStream(t *testing.T, url, q string, n, size int) {
	t.Helper()
	const conns = 4
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		share := n / conns
		if i == 0 {
			share += n % conns
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- publishShare(url, q, share, size)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func publishShare(url, q string, n, size int) error {
	c, err := fast.Dial(url, 30*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	const window = 20000
	p, err := fast.NewPublisher(c, fast.PublisherConfig{Keys: []string{q}, Size: size, Persistent: true, Confirms: window})
	if err != nil {
		return err
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	sent := 0
	for sent < n {
		if err := p.WaitConfirmed(ctx, uint64(max(0, sent+p.MaxBatch()-window))); err != nil {
			return err
		}
		k := min(p.MaxBatch(), n-sent)
		if err := p.Publish(k); err != nil {
			return err
		}
		sent += k
	}
	if err := p.WaitConfirmed(ctx, uint64(n)); err != nil {
		return err
	}
	if p.Nacked() > 0 {
		return fmt.Errorf("%d nacked", p.Nacked())
	}
	return nil
}

// firstDelivery connects (retrying while the broker starts) and returns
// when the first delivery from "first" arrived.
func firstDelivery(t *testing.T, url, q string) time.Time {
	t.Helper()
	c, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Qos(10, 0, false); err != nil {
		t.Fatal(err)
	}
	ds, err := ch.Consume(q, "", false, false, false, false, amqp.Table{"x-stream-offset": "first"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-ds:
		return time.Now()
	case <-time.After(60 * time.Second):
		t.Fatal("no delivery 60 s after restart")
	}
	return time.Time{}
}

// consumeAll reads n messages from first and returns the rate.
func consumeAll(t *testing.T, url, q string, n int) (float64, int) {
	t.Helper()
	c, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Qos(1000, 0, false); err != nil {
		t.Fatal(err)
	}
	ds, err := ch.Consume(q, "", false, false, false, false, amqp.Table{"x-stream-offset": "first"})
	if err != nil {
		t.Fatal(err)
	}
	var start time.Time
	got := 0
	for got < n {
		select {
		case d := <-ds:
			if got == 0 {
				start = time.Now()
			}
			got++
			if got%500 == 0 {
				_ = d.Ack(true)
			}
		case <-time.After(30 * time.Second):
			t.Logf("consume stalled after %d of %d", got, n)
			return float64(got) / time.Since(start).Seconds(), got
		}
	}
	return float64(got-1) / time.Since(start).Seconds(), got
}

// consumeRaw reads n messages from first with bench/fast's raw-frame
// connection (no per-message allocation in the client), so the broker is
// what is measured.
func consumeRaw(t *testing.T, url, q string, n int) (float64, int) {
	t.Helper()
	c, err := fast.Dial(url, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Call(wire.AppendBasicQos(nil, fast.Channel, 2000), wire.BasicQosOk); err != nil {
		t.Fatal(err)
	}
	req, s := wire.AppendMethodHeader(nil, fast.Channel, wire.BasicConsume)
	req = wire.AppendShort(req, 0)
	req = wire.AppendShortstr(req, q)
	req = wire.AppendShortstr(req, "raw")
	req = append(req, wire.Bits(false, false, false, false))
	req = wire.AppendTable(req, wire.Table{{Key: "x-stream-offset", Value: "first"}})
	req = wire.EndFrame(req, s)
	if _, err := c.Call(req, wire.BasicConsumeOk); err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Minute))
	var start time.Time
	got := 0
	var ack []byte
	for got < n {
		f, err := c.Next()
		if err != nil {
			t.Fatalf("raw consume after %d: %v", got, err)
		}
		if f.Type != wire.FrameMethod {
			continue
		}
		id, args, err := wire.Method(f.Payload)
		if err != nil || id != wire.BasicDeliver {
			continue
		}
		d, err := wire.ParseDeliver(args)
		if err != nil {
			t.Fatal(err)
		}
		if got == 0 {
			start = time.Now()
		}
		got++
		if got%500 == 0 {
			if err := c.QueueWrite(wire.AppendBasicAck(ack[:0], fast.Channel, d.Tag, true)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return float64(got-1) / time.Since(start).Seconds(), got
}

func rssMiB(t *testing.T, pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			kb, _ := strconv.Atoi(f[1])
			return kb / 1024
		}
	}
	return -1
}

func duMiB(dir string) int64 {
	var total int64
	_ = walkSize(dir, &total)
	return total >> 20
}

func walkSize(dir string, total *int64) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		p := dir + "/" + e.Name()
		if e.IsDir() {
			_ = walkSize(p, total)
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat(p, &st) == nil {
			*total += st.Blocks * 512
		}
	}
	return nil
}
