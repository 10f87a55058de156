//go:build linux

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"golang.org/x/sys/unix"

	"github.com/warrenmq/warren/segment/smallfs"
)

const (
	fullQA  = "full-a"
	fullQB  = "full-b"
	fullFan = "full-fan"
)

// TestDiskFullKillRestart fills a small tmpfs data dir with confirming
// publishers, kills warren with SIGKILL while the disk is full, restarts it
// on the still-full disk, frees space and checks that publishing resumed
// and that every confirmed message is there byte for byte.
//
// Before: publishers lost their connections to a 541 with publishes neither
// acked nor nacked, and the restart died of SIGBUS in segment recovery on
// every attempt until space was added.
func TestDiskFullKillRestart(t *testing.T) {
	mnt := smallfs.Mount(t, 12<<20)
	spare := filepath.Join(mnt, "spare") // the space an operator frees
	if err := os.WriteFile(spare, make([]byte, 4<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	// The data dir is the mount itself: the harness writes the log next to
	// it, on a disk with room.
	dataDir := mnt
	// The disk alarm (50 MB free by default) would block the publishers
	// before the disk fills: here the disk must really fill.
	conf := writeConf(t, "disk_free_limit.absolute = 1\n")
	args := procOptions{args: []string{"-segment-size", "4194304", "-config", conf}}
	proc := startWarren(t, dataDir, args)
	declareFullTopology(t, proc.url)

	run := &fullRun{t: t, seed: uint64(time.Now().UnixNano()), confirmed: map[uint64]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	const publishers = 3
	nacks := make([]atomic.Int64, publishers)
	var wg sync.WaitGroup
	for i := range publishers {
		wg.Add(1)
		go func() { defer wg.Done(); run.publish(ctx, proc.url, &nacks[i]) }()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		full := true
		for i := range nacks {
			full = full && nacks[i].Load() >= 5
		}
		if full {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("publishers not all nacked within 30 s (nacks %d %d %d, %d confirmed): is the disk filling?",
				nacks[0].Load(), nacks[1].Load(), nacks[2].Load(), run.confirmedCount())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := run.connLost.Load(); n > 0 {
		t.Fatalf("%d publishers lost their connection at disk full", n)
	}
	proc.kill() // while full, with the publishers still at it
	cancel()
	wg.Wait()
	proc.checkLog(t, "running to a full disk")
	var nacked int64
	for i := range nacks {
		nacked += nacks[i].Load()
	}
	if problems := logProblems(proc.log()); len(problems) > 10 {
		t.Errorf("%d nacks logged %d warnings and errors, want a few:\n%s", nacked, len(problems), strings.Join(problems[:10], "\n"))
	} else {
		t.Logf("%d nacks, %d log lines at WARN or ERROR", nacked, len(problems))
	}
	var st unix.Statfs_t
	if err := unix.Statfs(mnt, &st); err == nil {
		t.Logf("killed with %d confirmed, %d KiB free", run.confirmedCount(), st.Bavail*uint64(st.Bsize)>>10)
	}
	// What no message fitted in (space is reserved a chunk at a time):
	// take it too, so the restart meets a disk with 0 bytes free.
	filler := filepath.Join(mnt, "filler")
	smallfs.Fill(t, filler)

	proc = startWarren(t, dataDir, args)
	proc.checkLog(t, "restart on a full disk")
	for _, l := range logProblems(proc.log()) {
		t.Logf("restart on a full disk: %s", l)
	}
	if log := proc.log(); strings.Contains(log, "SIGBUS") {
		t.Fatalf("restart on a full disk: %s", tail(log, 4000))
	}
	for _, f := range []string{spare, filler} {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	var resumed atomic.Int64
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); run.publishN(ctx, proc.url, 20, &resumed) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cancel()
		<-done
	}
	cancel()
	if n := resumed.Load(); n != 20 {
		t.Fatalf("after freeing space, %d of 20 publishes were confirmed", n)
	}
	for _, q := range []string{fullQA, fullQB} {
		run.drainAndCheck(proc, q)
	}
	proc.checkLog(t, "after space was freed")
}

func declareFullTopology(t *testing.T, url string) {
	conn := mustDial(t, url)
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare(fullFan, "fanout", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{fullQA, fullQB} {
		if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
		if err := ch.QueueBind(q, "", fullFan, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	_ = conn.Close()
}

type fullRun struct {
	t        *testing.T
	seed     uint64
	seq      atomic.Uint64
	connLost atomic.Int64

	mu        sync.Mutex
	confirmed map[uint64]bool
}

func (r *fullRun) confirmedCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.confirmed)
}

// route sends a third of the messages to each queue and a third to both.
func fullRoute(seq uint64) (exchange, key string, queues []string) {
	switch seq % 3 {
	case 0:
		return "", fullQA, []string{fullQA}
	case 1:
		return "", fullQB, []string{fullQB}
	}
	return fullFan, "", []string{fullQA, fullQB}
}

// publish publishes with confirms until ctx ends or the broker goes,
// counting nacks; a connection that closes while the broker is up is
// counted in connLost.
func (r *fullRun) publish(ctx context.Context, url string, nacks *atomic.Int64) {
	conn, err := dialAMQP(url, 0)
	if err != nil {
		r.t.Errorf("dial: %v", err)
		return
	}
	defer conn.Close()
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	ch, err := conn.Channel()
	if err != nil || ch.Confirm(false) != nil {
		r.t.Errorf("channel: %v", err)
		return
	}
	w := &confirmWindow{ch: ch, size: 16, settle: func(seq uint64, acked bool) {
		if acked {
			r.mu.Lock()
			r.confirmed[seq] = true
			r.mu.Unlock()
		} else if !conn.IsClosed() {
			nacks.Add(1)
		}
	}}
	defer w.drain(time.Minute) // resolved by the ack, the nack or the connection closing
	for ctx.Err() == nil {
		select {
		case e := <-closed:
			if ctx.Err() == nil && e != nil && e.Server {
				r.connLost.Add(1)
				r.t.Logf("publisher connection closed by the broker: %v", e)
			}
			return
		default:
		}
		seq := r.seq.Add(1)
		ex, key, _ := fullRoute(seq)
		if w.publish(context.Background(), ex, key, seq, genPublishing(r.seed, seq)) != nil {
			return
		}
	}
}

// publishN publishes n messages with confirms, retrying nacked ones, and
// counts those confirmed in ok.
func (r *fullRun) publishN(ctx context.Context, url string, n int, ok *atomic.Int64) {
	conn, err := dialAMQP(url, 0)
	if err != nil {
		r.t.Errorf("dial: %v", err)
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil || ch.Confirm(false) != nil {
		r.t.Errorf("channel: %v", err)
		return
	}
	for ok.Load() < int64(n) && ctx.Err() == nil {
		seq := r.seq.Add(1)
		ex, key, _ := fullRoute(seq)
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, ex, key, false, false, genPublishing(r.seed, seq))
		if err != nil {
			r.t.Errorf("publish after freeing space: %v", err)
			return
		}
		if acked, err := dc.WaitContext(ctx); err == nil && acked {
			r.mu.Lock()
			r.confirmed[seq] = true
			r.mu.Unlock()
			ok.Add(1)
		} else if err == nil {
			time.Sleep(20 * time.Millisecond) // nacked: the disk is still full
		}
	}
}

// drainAndCheck consumes queue q and checks every delivery against what
// was sent, and that every confirmed message routed to q came.
func (r *fullRun) drainAndCheck(proc *warrenProc, q string) {
	t := r.t
	conn := mustDial(t, proc.url)
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	st, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
	if err != nil {
		t.Fatalf("queue %s after restart: %v", q, err)
	}
	dels, err := ch.Consume(q, "", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint64]int{}
	for i := 0; i < st.Messages; i++ {
		select {
		case d := <-dels:
			seq, prob := checkDelivery(r.seed, &d)
			if prob != "" {
				t.Fatalf("queue %s: %s", q, prob)
			}
			got[seq]++
		case <-time.After(10 * time.Second):
			t.Fatalf("queue %s: %d of %d messages delivered", q, i, st.Messages)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	missing := 0
	for seq := range r.confirmed {
		if _, _, qs := fullRoute(seq); !strings.Contains(strings.Join(qs, ","), q) {
			continue
		}
		if got[seq] == 0 {
			missing++
			if missing <= 10 {
				t.Errorf("queue %s: confirmed message %d is missing", q, seq)
			}
		}
	}
	for seq, n := range got {
		if n > 1 {
			t.Errorf("queue %s: message %d delivered %d times", q, seq, n)
		}
	}
	if missing > 0 {
		t.Fatalf("queue %s: %d confirmed messages missing (%d delivered)", q, missing, st.Messages)
	}
	t.Logf("queue %s: %d messages, every confirmed one byte for byte", q, st.Messages)
	_ = conn.Close()
}
