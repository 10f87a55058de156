package broker

import (
	"container/heap"
	"sync"
	"time"
)

// Timer is the broker's one clock for work due later: message and queue
// TTL, delayed messages, consumer timeouts. Entries sit in a binary heap
// ordered by due time (ties in scheduling order), so scheduling and
// cancelling cost O(log n) and a waiting entry is one small struct, not a
// goroutine or a runtime timer. One goroutine runs due functions in order.
//
// A function runs on the timer's goroutine with no timer lock held. It must
// not block for long (every later entry waits); work that locks a queue
// should gather anything that touches another queue into the queue's
// deferred list (deferred.go), which runs after that queue's lock is
// released.
//
// Locks: Timer.mu guards the heap and is a leaf: nothing else is locked
// while it is held, and it is never held while a function runs, so a
// function may schedule and cancel freely.
type Timer struct {
	mu     sync.Mutex
	h      timerHeap
	seq    uint64
	closed bool

	kick chan struct{} // an earlier entry arrived, or Close
	done chan struct{} // the goroutine has ended
}

// Timer is the broker's timer, started on first use and stopped by Close.
func (b *Broker) Timer() *Timer {
	b.timerMu.Lock()
	defer b.timerMu.Unlock()
	if b.timer == nil {
		b.timer = NewTimer()
	}
	return b.timer
}

func (b *Broker) closeTimer() {
	b.timerMu.Lock()
	t := b.timer
	b.timerMu.Unlock()
	if t != nil {
		t.Close()
	}
}

// TimerEntry is one scheduled function.
type TimerEntry struct {
	when  time.Time
	seq   uint64
	f     func()
	index int // in the heap; -1 once it fired or was cancelled
	t     *Timer
}

// NewTimer starts a timer. Close stops it.
func NewTimer() *Timer {
	t := &Timer{kick: make(chan struct{}, 1), done: make(chan struct{})}
	go t.run()
	return t
}

// At schedules f at when (at once if when has passed). After Close it
// schedules nothing and returns an entry that never fires.
func (t *Timer) At(when time.Time, f func()) *TimerEntry {
	e := &TimerEntry{when: when, f: f, index: -1, t: t}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return e
	}
	t.seq++
	e.seq = t.seq
	heap.Push(&t.h, e)
	first := t.h[0] == e
	t.mu.Unlock()
	if first {
		t.poke()
	}
	return e
}

// After schedules f d from now.
func (t *Timer) After(d time.Duration, f func()) *TimerEntry {
	return t.At(time.Now().Add(d), f)
}

// Cancel unschedules the entry. It reports whether it did: false when the
// function already ran, is running, or the entry was cancelled before.
func (e *TimerEntry) Cancel() bool {
	t := e.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.index < 0 {
		return false
	}
	heap.Remove(&t.h, e.index)
	return true
}

// Len is the number of entries waiting.
func (t *Timer) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.h)
}

// Close stops the timer: waiting entries never run. It waits for a
// function that is running to return, so it must not be called from one.
func (t *Timer) Close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		<-t.done
		return
	}
	t.closed = true
	for _, e := range t.h {
		e.index = -1
	}
	t.h = nil
	t.mu.Unlock()
	t.poke()
	<-t.done
}

func (t *Timer) poke() {
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

func (t *Timer) run() {
	defer close(t.done)
	clock := time.NewTimer(time.Hour)
	defer clock.Stop()
	for {
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			return
		}
		now := time.Now()
		var due *TimerEntry
		wait := time.Duration(-1)
		if len(t.h) > 0 {
			if first := t.h[0]; first.when.After(now) {
				wait = first.when.Sub(now)
			} else {
				due = heap.Pop(&t.h).(*TimerEntry)
			}
		}
		t.mu.Unlock()
		if due != nil {
			due.f()
			continue
		}
		if wait >= 0 {
			clock.Reset(wait)
			select {
			case <-clock.C:
			case <-t.kick:
				clock.Stop()
			}
		} else {
			<-t.kick
		}
	}
}

// timerHeap implements heap.Interface over entries, earliest first.
type timerHeap []*TimerEntry

func (h timerHeap) Len() int { return len(h) }

func (h timerHeap) Less(i, j int) bool {
	if !h[i].when.Equal(h[j].when) {
		return h[i].when.Before(h[j].when)
	}
	return h[i].seq < h[j].seq
}

func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h *timerHeap) Push(x any) {
	e := x.(*TimerEntry)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}
