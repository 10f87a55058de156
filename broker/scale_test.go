package broker

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// declareBound declares n durable queues and binds each to the durable
// direct exchange "scale" with its own name as key, from 16 goroutines as
// an application's declarers would.
func declareBound(t *testing.T, v *VHost, n int) {
	t.Helper()
	if err := v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "scale", Type: "direct", Durable: true}); err != nil {
		t.Fatal(err)
	}
	const workers = 16
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				name := fmt.Sprintf("scale.q%06d", i)
				if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: name, Durable: true}); err != nil {
					errs <- err
					return
				}
				if err := v.QueueBind(guest, Binding{Source: "scale", Destination: name, Key: name}, 0); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// 20,000 durable queues, each bound to one direct exchange: an idle queue
// with its binding costs well under a kilobyte of heap (so 100,000 fit in
// 200 MB of RSS with the GC's headroom), and a restart with them, some
// holding a backlog, is quick. Before, each queue cost ~2.3 KB: a classic
// store (segment log, index, their paths, the label hook) opened for a
// queue that holds nothing, and ~900 bytes of router bookkeeping for its
// binding.
func TestManyQueues(t *testing.T) {
	if raceEnabled {
		t.Skip("measures memory and time, which the race detector inflates; the concurrency is covered by the other tests")
	}
	if testing.Short() {
		t.Skip("declares 20,000 durable queues")
	}
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	const n, backlogs, backlog = 20_000, 20, 100
	before := liveHeap()
	declareBound(t, v, n)
	per := (float64(liveHeap()) - float64(before)) / n
	t.Logf("%.0f bytes of heap per idle durable queue with one binding", per)
	if per > 1000 {
		t.Errorf("%.0f bytes of heap per idle durable queue with one binding, want <= 1000", per)
	}

	for i := range backlogs {
		publishN(t, v, fmt.Sprintf("scale.q%06d", i*(n/backlogs)), backlog)
	}
	dir := b.Config().DataDir
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	nb, err := Open(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Cleanup(func() { nb.Close() })
	t.Logf("Open with %d durable queues and bindings, %d with %d messages: %v", n, backlogs, backlog, took)
	nv, _ := nb.VHost("/")
	nv.mu.RLock()
	queues := len(nv.queues)
	q := nv.queues[fmt.Sprintf("scale.q%06d", n/backlogs)]
	nv.mu.RUnlock()
	if queues < n || q == nil || q.Ready() != backlog {
		t.Fatalf("after restart: %d queues, backlog queue %v", queues, q)
	}
	if got := routed(t, nv, "scale", "scale.q000001"); got != 1 {
		t.Fatalf("binding lost: routed to %d queues", got)
	}
	if !q.Get(true, func(Ticket, Delivery, int) {}) {
		t.Fatal("no first delivery from a backlog")
	}
	// 5 s is the budget for 100,000 queues on a quiet machine; 20,000 on
	// a busy one (a third of a core) take 1-3 s.
	if limit := 5 * time.Second; took > limit {
		t.Fatalf("Open took %v with %d queues, want <= %v", took, n, limit)
	}
}
