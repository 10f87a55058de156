package netio_test

// End-to-end benchmark: an in-process Warren on loopback, one publisher
// connection writing pre-encoded publishes in batches (bench/fast) and one
// consumer connection parsing deliveries in place. The rig is shared with
// TestHotPathAllocs (allocs_test.go).

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warrenmq/warren/bench/fast"
)

// e2eStall fails a run when neither deliveries nor confirms advanced for
// this long: every wait of the rig is bounded by it.
const e2eStall = 10 * time.Second

// e2eConfig is one end-to-end scenario.
type e2eConfig struct {
	size     int  // body bytes
	durable  bool // durable queue, persistent messages, publisher confirms
	autoAck  bool // no-ack consumer; otherwise manual multiple acks
	ackEvery int  // manual: one multiple ack per ackEvery deliveries
}

func (c e2eConfig) String() string {
	mode := "transient"
	if c.durable {
		mode = "persistent-confirm"
	}
	ack := "autoack"
	if !c.autoAck {
		ack = fmt.Sprintf("multiack%d", c.ackEvery)
	}
	return fmt.Sprintf("size=%d/%s/%s", c.size, mode, ack)
}

// Publishes go out in writes of about e2eBatchBytes; at most
// e2eWindowBatches such writes are unconsumed (or unconfirmed) at a time.
const (
	e2eBatchBytes    = 64 << 10
	e2eWindowBatches = 16
)

// e2ePrefetch is the manual-ack consumer's basic.qos: room for several
// multiple acks in flight, and below the store's in-flight map shrink
// threshold (4096), so the map keeps its size.
const e2ePrefetch = 1000

// e2eRig is a running scenario. Only the goroutine that calls run uses the
// publisher; the consumer runs on its own goroutine.
type e2eRig struct {
	cfg    e2eConfig
	in     *instance
	pub    *fast.Publisher
	window int64 // most messages published and not yet consumed (or confirmed)

	published atomic.Int64
	received  atomic.Int64
	waitFor   atomic.Int64 // the publisher sleeps until received reaches this
	progress  chan struct{}

	ctx      context.Context // cancelled by a consumer error or a stall
	fail     context.CancelCauseFunc
	consDone chan error
}

// startE2E starts a private Warren, declares the queue, starts the consumer
// and prepares the publisher. Setup failures are reported on tb; everything
// is torn down at owner's cleanup (owner is tb, or the parent of a
// sub-benchmark whose invocations share the rig).
func startE2E(tb, owner testing.TB, cfg e2eConfig) *e2eRig {
	tb.Helper()
	dir, err := os.MkdirTemp("", "warren-e2e-*")
	if err != nil {
		tb.Fatalf("temp dir: %v", err)
	}
	owner.Cleanup(func() { _ = os.RemoveAll(dir) })
	in, err := startInstance(dir)
	if err != nil {
		tb.Fatalf("start warren: %v", err)
	}
	r := &e2eRig{cfg: cfg, in: in, progress: make(chan struct{}, 1), consDone: make(chan error, 1)}
	r.waitFor.Store(math.MaxInt64)
	r.ctx, r.fail = context.WithCancelCause(context.Background())
	owner.Cleanup(func() {
		r.fail(errors.New("rig closed"))
		if err := in.stop(); err != nil {
			owner.Errorf("stop warren: %v", err)
		}
	})

	const q = "e2e"
	pc, err := fast.Dial(in.url, waitTimeout)
	if err != nil {
		tb.Fatalf("dial publisher: %v", err)
	}
	if _, err := pc.DeclareQueue(q, cfg.durable); err != nil {
		_ = pc.Abort()
		tb.Fatalf("declare: %v", err)
	}
	cc, err := fast.Dial(in.url, waitTimeout)
	if err != nil {
		_ = pc.Abort()
		tb.Fatalf("dial consumer: %v", err)
	}

	consCtx, stopCons := context.WithCancel(context.Background())
	ready := make(chan struct{})
	ccfg := fast.ConsumerConfig{Queue: q, Tag: "e2e", AutoAck: cfg.autoAck, AckEvery: cfg.ackEvery, Ready: func() { close(ready) }}
	if !cfg.autoAck {
		ccfg.Prefetch = e2ePrefetch
	}
	go func() {
		err := cc.Consume(consCtx, ccfg, r.onMessage)
		if err != nil {
			r.fail(fmt.Errorf("consumer: %w", err))
		}
		_ = cc.Close()
		r.consDone <- err
	}()
	owner.Cleanup(func() {
		stopCons()
		select {
		case <-r.consDone:
		case <-time.After(waitTimeout):
			owner.Errorf("consumer did not stop within %v", waitTimeout)
			_ = cc.Abort()
		}
	})
	select {
	case <-ready:
	case err := <-r.consDone:
		r.consDone <- err
		_ = pc.Abort()
		tb.Fatalf("consume: %v", err)
	case <-time.After(waitTimeout):
		_ = pc.Abort()
		tb.Fatalf("no consume-ok within %v", waitTimeout)
	}

	pcfg := fast.PublisherConfig{Exchange: "", Keys: []string{q}, Size: cfg.size, Persistent: cfg.durable, BatchBytes: e2eBatchBytes}
	if cfg.durable {
		pcfg.Confirms = 1 << 16 // the tracker's capacity; run keeps at most window outstanding
	}
	r.pub, err = fast.NewPublisher(pc, pcfg)
	if err != nil {
		_ = pc.Abort()
		tb.Fatalf("publisher: %v", err)
	}
	// Enough in flight to keep both connections busy (about 1 MiB of
	// publishes), bounded so the queue holds no backlog to speak of.
	r.window = e2eWindowBatches * int64(r.pub.MaxBatch())
	owner.Cleanup(func() { _ = r.pub.Close() })
	return r
}

// onMessage runs on the consumer's goroutine for every delivery. It must
// not allocate or block.
func (r *e2eRig) onMessage(_, _ int64) {
	if r.received.Add(1) >= r.waitFor.Load() {
		select {
		case r.progress <- struct{}{}:
		default:
		}
	}
}

// waitReceived blocks until at least n messages were consumed.
func (r *e2eRig) waitReceived(n int64) error {
	for r.received.Load() < n {
		r.waitFor.Store(n)
		if r.received.Load() >= n { // arrived before waitFor was set
			break
		}
		select {
		case <-r.progress:
		case <-r.ctx.Done():
			r.waitFor.Store(math.MaxInt64)
			return context.Cause(r.ctx)
		}
	}
	r.waitFor.Store(math.MaxInt64)
	return nil
}

// run publishes n messages and waits until all were consumed and, with
// confirms, confirmed. Nothing in it allocates per message or per batch.
func (r *e2eRig) run(n int) error {
	stop := r.watchdog()
	defer stop()
	batch := int64(r.pub.MaxBatch())
	pub := r.published.Load()
	end := pub + int64(n)
	for pub < end {
		k := min(batch, end-pub)
		low := max(0, pub+k-r.window) // what must be done before k more go out
		if err := r.waitReceived(low); err != nil {
			return err
		}
		if r.cfg.durable {
			if err := r.pub.WaitConfirmed(r.ctx, uint64(low)); err != nil {
				return r.cause(err)
			}
		}
		if err := r.pub.Publish(int(k)); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		pub += k
		r.published.Store(pub)
	}
	if err := r.waitReceived(end); err != nil {
		return err
	}
	if r.cfg.durable {
		if err := r.pub.WaitConfirmed(r.ctx, uint64(end)); err != nil {
			return r.cause(err)
		}
		if nacked := r.pub.Nacked(); nacked > 0 {
			return fmt.Errorf("%d publishes nacked", nacked)
		}
	}
	return nil
}

func (r *e2eRig) cause(err error) error {
	if c := context.Cause(r.ctx); c != nil {
		return c
	}
	return err
}

// watchdog cancels the rig when nothing moves for e2eStall; stop ends it.
func (r *e2eRig) watchdog() (stop func()) {
	done := make(chan struct{})
	go func() {
		tk := time.NewTicker(time.Second)
		defer tk.Stop()
		last, since := int64(-1), time.Now()
		for {
			select {
			case <-done:
				return
			case <-r.ctx.Done():
				return
			case now := <-tk.C:
				p := r.received.Load() + int64(r.pub.Confirmed())
				if p != last {
					last, since = p, now
				} else if now.Sub(since) >= e2eStall {
					r.fail(fmt.Errorf("stalled for %v: published %d, received %d, confirmed %d",
						e2eStall, r.published.Load(), r.received.Load(), r.pub.Confirmed()))
					return
				}
			}
		}
	}()
	return func() { close(done) }
}

// e2eScenarios is the benchmark matrix.
func e2eScenarios() []e2eConfig {
	var out []e2eConfig
	for _, size := range []int{16, 1024} {
		for _, durable := range []bool{false, true} {
			for _, autoAck := range []bool{true, false} {
				out = append(out, e2eConfig{size: size, durable: durable, autoAck: autoAck, ackEvery: 100})
			}
		}
	}
	return out
}

// BenchmarkEndToEnd publishes b.N messages through an in-process Warren
// and consumes them all. Allocations are the whole process's: client,
// broker and server loops.
func BenchmarkEndToEnd(b *testing.B) {
	parent := b
	for _, cfg := range e2eScenarios() {
		// One rig serves every invocation of the sub-benchmark (b.N = 1,
		// 100, ...): stopping an instance takes gnet half a second.
		var r *e2eRig
		b.Run(cfg.String(), func(b *testing.B) {
			if r == nil {
				r = startE2E(b, parent, cfg)
				// A warm-up grows buffers and maps to their working size.
				if err := r.run(20_000); err != nil {
					b.Fatalf("warm-up: %v", err)
				}
			}
			b.SetBytes(int64(cfg.size))
			b.ReportAllocs()
			b.ResetTimer()
			if err := r.run(b.N); err != nil {
				b.Fatalf("run of %d messages: %v", b.N, err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
		})
	}
}
