package broker

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// deadlocked is set when withDeadline gave up on a deadlocked goroutine.
var deadlocked atomic.Bool

func openTestVHost(t *testing.T) *VHost {
	t.Helper()
	b, err := Open(Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !deadlocked.Load() {
			_ = b.Close()
		}
	})
	v, _ := b.VHost("/")
	return v
}

func declareTestQueue(t *testing.T, v *VHost, name string) *Queue {
	t.Helper()
	q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func testMessage(body string) *Message {
	return &Message{RoutingKey: []byte("k"), Body: []byte(body)}
}

// withDeadline fails the test instead of hanging when f deadlocks.
func withDeadline(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		// The deadlocked goroutine holds a queue lock that the cleanup's
		// Close would wait for forever: leave the broker open.
		deadlocked.Store(true)
		t.Fatalf("%s did not finish in 10 s: deadlock (deferred work ran under a queue lock?)", what)
	}
}

// Deferred work runs after the queue's lock is released, in the order it
// was added.
func TestDeferredRunsAfterUnlock(t *testing.T) {
	v := openTestVHost(t)
	q := declareTestQueue(t, v, "a")
	var order []int
	heldDuring := false
	q.mu.Lock()
	for i := 0; i < 3; i++ {
		i := i
		q.deferLocked(func() {
			if q.mu.TryLock() {
				q.mu.Unlock()
			} else {
				heldDuring = true
			}
			order = append(order, i)
		})
	}
	if len(order) != 0 {
		t.Fatal("deferred work ran while it was being gathered")
	}
	q.unlock()
	if heldDuring {
		t.Fatal("deferred work ran while the queue lock was held")
	}
	if fmt.Sprint(order) != "[0 1 2]" {
		t.Fatalf("ran %v, want [0 1 2]", order)
	}
	if q.deferred.Len() != 0 {
		t.Fatal("the list was not emptied")
	}
}

// A queue moving a message into itself (a dead-letter cycle) publishes to
// its own lock from deferred work: run under the lock, that deadlocks.
func TestDeferredMoveIntoSameQueue(t *testing.T) {
	v := openTestVHost(t)
	q := declareTestQueue(t, v, "self")
	withDeadline(t, "moving a message into its own queue", func() {
		q.mu.Lock()
		q.deferLocked(func() {
			if _, _, err := q.publish(testMessage("again")); err != nil {
				t.Error(err)
			}
		})
		q.unlock()
	})
	if q.Ready() != 1 {
		t.Fatalf("ready %d, want the moved message", q.Ready())
	}
}

// Two queues moving messages into each other at once: holding the first
// queue's lock while taking the second's would deadlock (a→b against b→a).
// Work deferred by deferred work (b's unlock runs what b gathered) runs too.
func TestDeferredCrossMovesDoNotDeadlock(t *testing.T) {
	v := openTestVHost(t)
	a := declareTestQueue(t, v, "a")
	b := declareTestQueue(t, v, "b")
	const rounds = 2000
	move := func(from, to *Queue) {
		for i := 0; i < rounds; i++ {
			from.mu.Lock()
			from.deferLocked(func() {
				to.mu.Lock()
				to.deferLocked(func() {}) // work deferred by deferred work
				to.unlock()
				if _, _, err := to.publish(testMessage("m")); err != nil {
					t.Error(err)
				}
			})
			from.unlock()
		}
	}
	withDeadline(t, "queues moving messages into each other", func() {
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); move(a, b) }()
		go func() { defer wg.Done(); move(b, a) }()
		wg.Wait()
	})
	if a.Ready() != rounds || b.Ready() != rounds {
		t.Fatalf("ready a=%d b=%d, want %d each", a.Ready(), b.Ready(), rounds)
	}
}

// The timer and the deferred list together, as TTL will use them: a timer
// function locks a queue, defers the move of its message into another queue,
// and the move happens after the first lock is released.
func TestTimerDefersMoveOutOfQueueLock(t *testing.T) {
	v := openTestVHost(t)
	src := declareTestQueue(t, v, "src")
	dst := declareTestQueue(t, v, "dst")
	moved := make(chan bool, 1)
	v.b.Timer().After(time.Millisecond, func() {
		src.mu.Lock()
		src.deferLocked(func() {
			free := src.mu.TryLock()
			if free {
				src.mu.Unlock()
			}
			_, _, err := dst.publish(testMessage("expired"))
			moved <- free && err == nil
		})
		src.unlock()
	})
	select {
	case ok := <-moved:
		if !ok {
			t.Fatal("the move ran with the source queue locked, or failed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the timer's move did not happen")
	}
	if dst.Ready() != 1 {
		t.Fatalf("dst ready %d, want 1", dst.Ready())
	}
}
