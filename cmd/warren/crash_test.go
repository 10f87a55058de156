//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/bench/perf"
)

// TestCrashRecovery is the acceptance test for "a message confirmed to a
// publisher as persistent survives kill -9 of the broker and a restart,
// exactly as written".
//
// Two publishers (confirm mode, persistent, bodies of 0..64 KiB, every
// property and a headers table with every field type) publish continuously
// to two durable queues directly and through a durable fanout exchange; a
// consumer acks, nacks, rejects or holds messages of a third durable queue.
// The broker is killed with SIGKILL at random points (also during startup and
// right after it) and restarted on the same data dir. At the end every queue
// is drained and checked:
//
//   - every confirmed message is delivered, byte-identical (body and every
//     property), once, in each queue it was routed to; in the consumed queue
//     only those the consumer never acked or rejected are required;
//   - nothing is delivered that was not sent, or to a queue it was not routed
//     to.
//
// The "corrupt" variant also damages files between restarts (truncates the
// newest segment at a random offset, flips bytes in the middle of a segment,
// writes garbage after the last record, truncates an ack/index file). There
// the broker must start, must not crash and must never deliver a garbled
// message; messages confirmed before the last damage may be lost, those
// confirmed after it may not.
func TestCrashRecovery(t *testing.T) {
	t.Run("kill", func(t *testing.T) {
		runCrash(t, crashParams{cycles: 20, minRun: 50 * time.Millisecond, maxRun: 600 * time.Millisecond, segmentSize: 1 << 20})
	})
	t.Run("kill-changing-segment-size", func(t *testing.T) {
		runCrash(t, crashParams{cycles: 8, minRun: 50 * time.Millisecond, maxRun: 400 * time.Millisecond, segmentSize: 1 << 20, otherSizes: []int{64 << 10, 8 << 20}})
	})
	t.Run("corrupt", func(t *testing.T) {
		runCrash(t, crashParams{cycles: 12, corrupt: true, minRun: 50 * time.Millisecond, maxRun: 400 * time.Millisecond, segmentSize: 256 << 10})
	})
}

// TestSoakCrashRecovery is the long version (`make soak`).
func TestSoakCrashRecovery(t *testing.T) {
	if !soak() {
		t.Skip("WARREN_SOAK=1 runs the soak tests")
	}
	t.Run("kill", func(t *testing.T) {
		runCrash(t, crashParams{cycles: 300, minRun: 20 * time.Millisecond, maxRun: 3 * time.Second, segmentSize: 1 << 20, checkEvery: 50})
	})
	t.Run("kill-small-segments", func(t *testing.T) {
		runCrash(t, crashParams{cycles: 150, minRun: 20 * time.Millisecond, maxRun: 2 * time.Second, segmentSize: 64 << 10, checkEvery: 50})
	})
	t.Run("kill-changing-segment-size", func(t *testing.T) {
		runCrash(t, crashParams{cycles: 100, minRun: 20 * time.Millisecond, maxRun: 2 * time.Second, segmentSize: 1 << 20, otherSizes: []int{64 << 10, 256 << 10, 8 << 20}, checkEvery: 50})
	})
	t.Run("corrupt", func(t *testing.T) {
		runCrash(t, crashParams{cycles: 120, corrupt: true, minRun: 20 * time.Millisecond, maxRun: 1500 * time.Millisecond, segmentSize: 256 << 10, checkEvery: 40})
	})
}

const (
	crashQA   = "crash-a"
	crashQB   = "crash-b"
	crashQAck = "crash-acked"
	crashFan  = "crash-fan"
)

type crashRoute uint8

const (
	toA crashRoute = iota
	toB
	toFan // fanout exchange bound to crash-a and crash-b
	toAck
)

func crashRouteOf(seed, seq uint64) crashRoute {
	r := rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15, seq))
	switch x := r.IntN(100); {
	case x < 35:
		return toA
	case x < 60:
		return toB
	case x < 75:
		return toFan
	default:
		return toAck
	}
}

func (r crashRoute) target() (exchange, key string) {
	switch r {
	case toA:
		return "", crashQA
	case toB:
		return "", crashQB
	case toFan:
		return crashFan, "any"
	default:
		return "", crashQAck
	}
}

func (r crashRoute) queues() []string {
	switch r {
	case toA:
		return []string{crashQA}
	case toB:
		return []string{crashQB}
	case toFan:
		return []string{crashQA, crashQB}
	default:
		return []string{crashQAck}
	}
}

type crashParams struct {
	cycles         int
	corrupt        bool
	minRun, maxRun time.Duration
	segmentSize    int
	otherSizes     []int // if set, each restart picks -segment-size from segmentSize and these
	checkEvery     int   // drain and check every so many cycles (keeps a soak's disk bounded)
}

// Per-message flags kept by the tracker.
const (
	fConfirmed uint8 = 1 << iota // the broker acked the publish
	fAcked                       // the consumer acked or rejected it (it may be gone)
	fDelivered                   // the consumer got it
)

type tracker struct {
	mu         sync.Mutex
	seed       uint64
	flags      []uint8 // by seq; seq 0 unused
	riskBefore uint64  // messages with seq < riskBefore predate a corruption
	problems   []string
	nacks      int
	confirmed  int
	delivered  int // to the consumer during the cycles
}

func (tr *tracker) alloc() uint64 {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.flags) == 0 {
		tr.flags = append(tr.flags, 0)
	}
	tr.flags = append(tr.flags, 0)
	return uint64(len(tr.flags) - 1)
}

func (tr *tracker) last() uint64 {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return uint64(max(len(tr.flags), 1) - 1)
}

func (tr *tracker) set(seq uint64, f uint8) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if f&fConfirmed != 0 && tr.flags[seq]&fConfirmed == 0 {
		tr.confirmed++
	}
	tr.flags[seq] |= f
}

func (tr *tracker) problem(format string, args ...any) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.problems) < 50 {
		tr.problems = append(tr.problems, fmt.Sprintf(format, args...))
	}
}

type crashRun struct {
	t       *testing.T
	p       crashParams
	rng     *rand.Rand
	tr      *tracker
	dataDir string
	wg      sync.WaitGroup
	damaged bool   // a corruption happened at some point
	base    uint64 // messages below base were drained at a checkpoint
}

func runCrash(t *testing.T, p crashParams) {
	seed := rand.Uint64()
	t.Logf("seed %#x (messages are a function of it)", seed)
	c := &crashRun{
		t: t, p: p, rng: rand.New(rand.NewPCG(seed, 1)),
		tr:      &tracker{seed: seed},
		dataDir: filepath.Join(t.TempDir(), "data"),
		base:    1,
	}
	args := procOptions{args: []string{"-segment-size", fmt.Sprint(p.segmentSize), "-log-level", "info"}, readyTimeout: 60 * time.Second}
	kinds := []func() string{c.truncateNewestSegment, c.flipMiddleOfSegment, c.garbageAfterTail, c.truncateAckFile}
	nextKind := 0
	for i := 0; i < p.cycles; i++ {
		if p.checkEvery > 0 && i > 0 && i%p.checkEvery == 0 {
			t.Logf("cycle %d: checkpoint: drain and check everything so far", i)
			c.finalCheck(args)
			c.base = c.tr.last() + 1
			if t.Failed() {
				return
			}
		}
		if p.corrupt && i > 0 && i < p.cycles-2 {
			what := kinds[nextKind%len(kinds)]()
			nextKind++
			c.tr.mu.Lock()
			c.tr.riskBefore = uint64(len(c.tr.flags))
			c.tr.mu.Unlock()
			c.damaged = true
			t.Logf("cycle %d: %s", i, what)
		}
		if i > 0 && c.rng.IntN(100) < 5 {
			// Kill during startup (recovery).
			o := args
			o.noWait = true
			proc := startWarren(t, c.dataDir, o)
			time.Sleep(time.Duration(c.rng.IntN(30)) * time.Millisecond)
			crashed := proc.exited()
			proc.kill()
			if crashed && proc.state.ExitCode() != 0 && !strings.Contains(proc.log(), "address already in use") {
				t.Errorf("cycle %d: warren exited during startup: %v\n%s", i, proc.waitErr, tail(proc.log(), 6000))
			}
			proc.checkLog(t, fmt.Sprintf("cycle %d (killed during startup)", i))
			t.Logf("cycle %d: killed during startup", i)
			continue
		}
		o := args
		if len(p.otherSizes) > 0 {
			sizes := append([]int{p.segmentSize}, p.otherSizes...)
			o.args = []string{"-segment-size", fmt.Sprint(sizes[c.rng.IntN(len(sizes))]), "-log-level", "info"}
		}
		proc := startWarren(t, c.dataDir, o)
		if i == 0 {
			c.declareTopology(proc.url)
		}
		if c.damaged {
			for _, l := range logProblems(proc.log()) {
				t.Logf("cycle %d startup log: %s", i, tail(l, 400))
			}
		}
		run := p.minRun + time.Duration(c.rng.Int64N(int64(p.maxRun-p.minRun)))
		if c.rng.IntN(100) < 10 {
			run = time.Duration(c.rng.IntN(30)) * time.Millisecond
		}
		before := c.tr.confirmed
		ctx, cancel := context.WithCancel(context.Background())
		c.wg.Add(4)
		go c.churn(ctx, proc.url, rand.New(rand.NewPCG(seed, uint64(i)+10000)))
		go c.publisher(ctx, proc.url, 0, true)
		go c.publisher(ctx, proc.url, 8192, false) // bodies over 8 KiB span frames
		go c.consumer(ctx, proc.url, rand.New(rand.NewPCG(seed, uint64(i)+100)))
		select {
		case <-time.After(run):
		case <-proc.done:
		}
		crashed := proc.exited()
		proc.kill()
		cancel()
		withTimeout(t, 30*time.Second, "publishers and consumer after the kill", c.wg.Wait)
		if crashed {
			t.Fatalf("cycle %d: warren exited on its own (%v); log:\n%s", i, proc.waitErr, tail(proc.log(), 8000))
		}
		proc.checkLog(t, fmt.Sprintf("cycle %d", i))
		c.tr.mu.Lock()
		t.Logf("cycle %d: killed after %v (ready in %v); %d published so far, %d confirmed (+%d)",
			i, run.Round(time.Millisecond), proc.ready.Round(time.Millisecond), len(c.tr.flags)-1, c.tr.confirmed, c.tr.confirmed-before)
		c.tr.mu.Unlock()
		if t.Failed() {
			break
		}
	}
	c.finalCheck(args)
}

func (c *crashRun) declareTopology(url string) {
	t := c.t
	conn := mustDial(t, url)
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare(crashFan, "fanout", true, false, false, false, nil); err != nil {
		t.Fatalf("exchange.declare: %v", err)
	}
	for _, q := range []string{crashQA, crashQB, crashQAck} {
		if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
			t.Fatalf("queue.declare %s: %v", q, err)
		}
	}
	for _, q := range []string{crashQA, crashQB} {
		if err := ch.QueueBind(q, "", crashFan, false, nil); err != nil {
			t.Fatalf("queue.bind %s: %v", q, err)
		}
	}
	_ = conn.Close()
}

// checkTopology checks that the durable definitions survived the restart.
func (c *crashRun) checkTopology(conn *amqp.Connection) {
	ch, err := conn.Channel()
	if err != nil {
		return
	}
	defer ch.Close()
	lost := func(what string, err error) bool {
		var ae *amqp.Error
		if errors.As(err, &ae) && ae.Code == amqp.NotFound {
			c.tr.problem("after a restart %s is gone: %v", what, err)
			return true
		}
		return err != nil
	}
	if lost("exchange "+crashFan, ch.ExchangeDeclarePassive(crashFan, "fanout", true, false, false, false, nil)) {
		return
	}
	for _, q := range []string{crashQA, crashQB, crashQAck} {
		if _, err := ch.QueueDeclarePassive(q, true, false, false, false, nil); lost("queue "+q, err) {
			return
		}
	}
}

const publishWindow = 64

func (c *crashRun) publisher(ctx context.Context, url string, frameSize int, check bool) {
	defer c.wg.Done()
	conn, err := dialAMQP(url, frameSize)
	if err != nil {
		return // killed before we got in
	}
	defer conn.Close()
	if check {
		c.checkTopology(conn)
	}
	ch, err := conn.Channel()
	if err != nil {
		return
	}
	if err := ch.Confirm(false); err != nil {
		return
	}
	w := &confirmWindow{ch: ch, size: publishWindow, settle: func(seq uint64, acked bool) {
		if acked {
			c.tr.set(seq, fConfirmed)
		} else if !conn.IsClosed() {
			c.tr.mu.Lock()
			c.tr.nacks++
			c.tr.mu.Unlock()
		}
	}}
	// After the kill every outstanding confirmation resolves (acked if the
	// ack made it out before the broker died, else not).
	defer func() {
		if left := w.drain(20 * time.Second); len(left) > 0 {
			c.tr.problem("publisher: confirmation of %d never resolved after the broker died", left[0])
		}
	}()
	for ctx.Err() == nil {
		seq := c.tr.alloc()
		ex, key := crashRouteOf(c.tr.seed, seq).target()
		if w.publish(ctx, ex, key, seq, genPublishing(c.tr.seed, seq)) != nil {
			return
		}
	}
}

// consumer takes messages from crash-acked and acks most of them; it also
// nacks with requeue, rejects, holds messages unacked and acks several at
// once.
func (c *crashRun) consumer(ctx context.Context, url string, rng *rand.Rand) {
	defer c.wg.Done()
	conn, err := dialAMQP(url, 0)
	if err != nil {
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return
	}
	if err := ch.Qos(32, 0, false); err != nil {
		return
	}
	dels, err := ch.ConsumeWithContext(ctx, crashQAck, "", false, false, false, false, nil)
	if err != nil {
		return
	}
	var held []uint64
	for {
		var d amqp.Delivery
		var ok bool
		select {
		case d, ok = <-dels:
		case <-ctx.Done():
			return
		}
		if !ok {
			return
		}
		seq, prob := checkDelivery(c.tr.seed, &d)
		if prob != "" {
			c.tr.problem("consumer of %s got a bad delivery: %s", crashQAck, prob)
			continue // leave it unacked
		}
		c.tr.mu.Lock()
		c.tr.delivered++
		c.tr.mu.Unlock()
		c.tr.set(seq, fDelivered)
		if r := crashRouteOf(c.tr.seed, seq); r != toAck {
			c.tr.problem("message %d (route %d) delivered from %s", seq, r, crashQAck)
		}
		// Mark before acking: once the ack may have reached the broker the
		// message may be gone.
		switch x := rng.IntN(100); {
		case x < 70:
			c.tr.set(seq, fAcked)
			_ = d.Ack(false)
		case x < 80 && len(held) < 16:
			held = append(held, seq)
		case x < 88:
			_ = d.Nack(false, true)
		case x < 93:
			c.tr.set(seq, fAcked)
			_ = d.Reject(false)
		default:
			for _, h := range held {
				c.tr.set(h, fAcked)
			}
			held = held[:0]
			c.tr.set(seq, fAcked)
			_ = d.Ack(true)
		}
	}
}

// churn declares, binds and deletes other durable queues and exchanges
// while the broker gets killed: the definitions file is rewritten all the
// time, and must always load.
func (c *crashRun) churn(ctx context.Context, url string, rng *rand.Rand) {
	defer c.wg.Done()
	conn, err := dialAMQP(url, 0)
	if err != nil {
		return
	}
	defer conn.Close()
	var ch *amqp.Channel
	for ctx.Err() == nil {
		if ch == nil || ch.IsClosed() {
			if ch, err = conn.Channel(); err != nil {
				return
			}
		}
		q := fmt.Sprintf("crash-churn-%d", rng.IntN(4))
		const x = "crash-churn-x"
		switch rng.IntN(6) {
		case 0, 1:
			if _, err = ch.QueueDeclare(q, true, false, false, false, amqp.Table{"x-max-length": int32(100)}); err == nil {
				err = ch.QueueBind(q, "", crashFan, false, nil)
			}
		case 2:
			_, err = ch.QueueDelete(q, false, false, false)
		case 3:
			err = ch.ExchangeDeclare(x, "topic", true, false, false, false, nil)
		case 4:
			err = ch.QueueBind(q, "#", x, false, nil)
		case 5:
			err = ch.ExchangeDelete(x, false, false)
		}
		var ae *amqp.Error
		if err != nil && !(errors.As(err, &ae) && ae.Code == amqp.NotFound) {
			return // the broker is gone
		}
		time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
	}
}

// finalCheck restarts the broker, drains every queue and checks what came
// out against what was confirmed.
func (c *crashRun) finalCheck(o procOptions) {
	t := c.t
	proc := startWarren(t, c.dataDir, o)
	t.Logf("final start: ready in %v", proc.ready.Round(time.Millisecond))
	if c.damaged {
		for _, l := range logProblems(proc.log()) {
			t.Logf("final startup log: %s", tail(l, 400))
		}
	}
	for _, p := range c.tr.problems {
		t.Errorf("during the cycles: %s", p)
	}
	c.tr.problems = nil
	if c.tr.nacks > 0 {
		t.Logf("%d publishes were nacked while the connection was open", c.tr.nacks)
	}
	counts := map[string]map[uint64]int{}
	fresh := map[uint64]bool{} // delivered from crash-acked with redelivered=false
	for _, q := range []string{crashQA, crashQB, crashQAck} {
		counts[q] = c.drain(proc, q, fresh)
	}
	// A message the consumer got before a crash and did not ack must come
	// back flagged redelivered (index/hint.go's promise). Files damaged in
	// the corrupt variant may include the hint, so only here.
	if !c.damaged {
		var bad []string
		for seq := range fresh {
			if f := c.tr.flags[seq]; f&fDelivered != 0 && f&fAcked == 0 {
				bad = append(bad, fmt.Sprint(seq))
			}
		}
		if len(bad) > 0 {
			slices.Sort(bad)
			t.Errorf("%d messages of %s delivered (and not acked) before a crash came back with redelivered=false, e.g. %s",
				len(bad), crashQAck, strings.Join(bad[:min(len(bad), 10)], ", "))
		}
	}
	last := c.tr.last()
	var missing, dups []string
	var nMissing, nDups, lostAtRisk, ackedBack, unconfirmedPresent, confirmed int
	for seq := c.base; seq <= last; seq++ {
		f := c.tr.flags[seq]
		atRisk := seq < c.tr.riskBefore
		for _, q := range crashRouteOf(c.tr.seed, seq).queues() {
			n := counts[q][seq]
			if f&fConfirmed == 0 {
				if n > 0 {
					unconfirmedPresent++
				}
				if n > 1 && !atRisk {
					nDups++
					if len(dups) < 10 {
						dups = append(dups, fmt.Sprintf("%d (unconfirmed) x%d in %s", seq, n, q))
					}
				}
				continue
			}
			confirmed++
			switch {
			case n == 0 && q == crashQAck && f&fAcked != 0:
			case n == 0 && atRisk:
				lostAtRisk++
			case n == 0:
				nMissing++
				if len(missing) < 20 {
					missing = append(missing, fmt.Sprintf("%d in %s", seq, q))
				}
			case n > 0 && q == crashQAck && f&fAcked != 0:
				ackedBack++
			}
			if n > 1 && !atRisk {
				nDups++
				if len(dups) < 10 {
					dups = append(dups, fmt.Sprintf("%d x%d in %s", seq, n, q))
				}
			}
		}
	}
	for q, m := range counts {
		for seq := range m {
			if seq < c.base && !c.damaged {
				t.Errorf("message %d came back from %s after a checkpoint had drained it (and the broker was shut down cleanly)", seq, q)
			}
			if seq > last || !slices.Contains(crashRouteOf(c.tr.seed, seq).queues(), q) {
				t.Errorf("message %d delivered from %s, where it was never routed", seq, q)
			}
		}
	}
	if nMissing > 0 {
		t.Errorf("%d confirmed messages (confirmed after any corruption) were not delivered after recovery; e.g. %s",
			nMissing, strings.Join(missing, ", "))
	}
	if nDups > 0 {
		t.Errorf("%d messages were delivered more than once from the same queue after recovery; e.g. %s", nDups, strings.Join(dups, ", "))
	}
	t.Logf("messages %d..%d checked: %d (message, queue) pairs confirmed; after recovery: %d confirmed-and-acked came back, %d unconfirmed present, %d lost that predate a corruption",
		c.base, last, confirmed, ackedBack, unconfirmedPresent, lostAtRisk)

	if c.damaged {
		n := 0
		for _, l := range logProblems(proc.log()) {
			if n++; n <= 20 {
				t.Logf("final run log: %s", tail(l, 400))
			}
		}
	}
	alloc, apparent := perf.DirBytes(c.dataDir)
	t.Logf("data dir after draining: %d bytes allocated, %d apparent", alloc, apparent)
	code, exited := proc.signal(syscall.SIGTERM, 30*time.Second)
	if !exited {
		t.Errorf("warren still running 30s after SIGTERM")
	} else if code != 0 {
		t.Errorf("warren exited %d after SIGTERM; log:\n%s", code, tail(proc.log(), 4000))
	}
	proc.checkLog(t, "final run")
}

// drain consumes everything in queue (no-ack) and checks each delivery.
func (c *crashRun) drain(proc *warrenProc, queue string, fresh map[uint64]bool) map[uint64]int {
	t := c.t
	conn := mustDial(t, proc.url)
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	if err != nil {
		t.Errorf("after recovery, queue %s: %v", queue, err)
		return nil
	}
	dels, err := ch.Consume(queue, "", true, false, false, false, nil)
	if err != nil {
		t.Fatalf("basic.consume %s: %v", queue, err)
	}
	counts := map[uint64]int{}
	got, bad := 0, 0
	// Until queue.declare's count has arrived, a quiet spell means a stall,
	// not the end: wait long enough for a loaded machine. Damaged files
	// may legitimately come up short of the count, so wait less there.
	idle := 30 * time.Second
	if c.damaged {
		idle = 10 * time.Second
	}
	timer := time.NewTimer(idle)
	defer timer.Stop()
loop:
	for {
		select {
		case d, ok := <-dels:
			if !ok {
				t.Errorf("draining %s: the delivery channel closed after %d messages", queue, got)
				break loop
			}
			got++
			seq, prob := checkDelivery(c.tr.seed, &d)
			if prob != "" {
				bad++
				if bad <= 10 {
					t.Errorf("draining %s: %s", queue, prob)
				}
				continue
			}
			counts[seq]++
			if queue == crashQAck && !d.Redelivered {
				fresh[seq] = true
			}
			if got >= q.Messages {
				idle = 300 * time.Millisecond
			}
			timer.Reset(idle)
		case <-timer.C:
			break loop
		}
	}
	if bad > 10 {
		t.Errorf("draining %s: %d bad deliveries in all", queue, bad)
	}
	if got != q.Messages {
		msg := fmt.Sprintf("queue %s: queue.declare said %d messages, %d were delivered", queue, q.Messages, got)
		if c.damaged && got < q.Messages {
			t.Log(msg + " (files were damaged)")
		} else {
			t.Error(msg)
		}
	}
	_ = conn.Close()
	return counts
}

// --- corruption -------------------------------------------------------------

type queueFiles struct {
	dir    string
	segs   []string // seg.* files, oldest first
	others []string // ack / index files
}

func (c *crashRun) queueFiles() []queueFiles {
	dirs, _ := filepath.Glob(filepath.Join(c.dataDir, "vhosts", "*", "queues", "*"))
	var out []queueFiles
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		qf := queueFiles{dir: d}
		for _, e := range ents {
			if !e.Type().IsRegular() {
				continue
			}
			if strings.HasPrefix(e.Name(), "seg.") {
				qf.segs = append(qf.segs, filepath.Join(d, e.Name()))
			} else {
				qf.others = append(qf.others, filepath.Join(d, e.Name()))
			}
		}
		slices.Sort(qf.segs)
		slices.Sort(qf.others)
		out = append(out, qf)
	}
	return out
}

// dataEnd is one past the last non-zero byte of the file: the end of the
// records in a preallocated segment.
func dataEnd(path string) (end, size int64) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0
	}
	end = int64(len(b))
	for end > 0 && b[end-1] == 0 {
		end--
	}
	return end, int64(len(b))
}

func (c *crashRun) pickSegment(newest bool) string {
	var cands []string
	for _, qf := range c.queueFiles() {
		if len(qf.segs) == 0 {
			continue
		}
		if newest {
			cands = append(cands, qf.segs[len(qf.segs)-1])
		} else {
			cands = append(cands, qf.segs...)
		}
	}
	// Prefer files with records in them.
	var full []string
	for _, s := range cands {
		if e, _ := dataEnd(s); e > 64 {
			full = append(full, s)
		}
	}
	if len(full) > 0 {
		cands = full
	}
	if len(cands) == 0 {
		return ""
	}
	return cands[c.rng.IntN(len(cands))]
}

func (c *crashRun) rel(path string) string {
	r, err := filepath.Rel(c.dataDir, path)
	if err != nil {
		return path
	}
	return r
}

func (c *crashRun) truncateNewestSegment() string {
	s := c.pickSegment(true)
	if s == "" {
		return "no segment file to truncate"
	}
	end, size := dataEnd(s)
	off := c.rng.Int64N(end + 1)
	if err := os.Truncate(s, off); err != nil {
		c.t.Fatalf("truncate %s: %v", s, err)
	}
	return fmt.Sprintf("truncated newest segment %s (size %d, records end near %d) to %d", c.rel(s), size, end, off)
}

func (c *crashRun) flipMiddleOfSegment() string {
	s := c.pickSegment(false)
	if s == "" {
		return "no segment file to damage"
	}
	end, _ := dataEnd(s)
	if end < 64 {
		return "segment " + c.rel(s) + " has no records to damage"
	}
	off := end/4 + c.rng.Int64N(end/2)
	n := 1 + c.rng.IntN(8)
	f, err := os.OpenFile(s, os.O_RDWR, 0)
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		c.t.Fatalf("read %s: %v", s, err)
	}
	for i := range b {
		b[i] ^= byte(1 + c.rng.IntN(255))
	}
	if _, err := f.WriteAt(b, off); err != nil {
		c.t.Fatalf("write %s: %v", s, err)
	}
	return fmt.Sprintf("flipped %d bytes at offset %d of %s (records end near %d)", n, off, c.rel(s), end)
}

func (c *crashRun) garbageAfterTail() string {
	s := c.pickSegment(true)
	if s == "" {
		return "no segment file to append garbage to"
	}
	end, size := dataEnd(s)
	off := (end + 64 + 7) &^ 7 // clear of the last record and its padding
	n := 16 + c.rng.IntN(4096)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(c.rng.Uint32())
	}
	f, err := os.OpenFile(s, os.O_RDWR, 0)
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		c.t.Fatalf("write %s: %v", s, err)
	}
	return fmt.Sprintf("wrote %d random bytes at %d in %s (size %d, records end near %d)", n, off, c.rel(s), size, end)
}

func (c *crashRun) truncateAckFile() string {
	var cands []string
	for _, qf := range c.queueFiles() {
		for _, o := range qf.others {
			if fi, err := os.Stat(o); err == nil && fi.Size() > 0 {
				cands = append(cands, o)
			}
		}
	}
	if len(cands) == 0 {
		return "no ack/index file found; instead " + c.flipMiddleOfSegment()
	}
	s := cands[c.rng.IntN(len(cands))]
	fi, _ := os.Stat(s)
	off := c.rng.Int64N(fi.Size())
	if err := os.Truncate(s, off); err != nil {
		c.t.Fatalf("truncate %s: %v", s, err)
	}
	return fmt.Sprintf("truncated ack/index file %s from %d to %d bytes", c.rel(s), fi.Size(), off)
}
