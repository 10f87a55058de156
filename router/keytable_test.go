package router

import (
	"fmt"
	"sync"
	"testing"
)

// keyTable against a Go map through growth, tombstones, re-inserts and
// shrinking.
func TestKeyTable(t *testing.T) {
	var kt keyTable[int]
	ref := map[string]*dests[int]{}
	check := func() {
		t.Helper()
		if kt.len() != len(ref) {
			t.Fatalf("len %d, want %d", kt.len(), len(ref))
		}
		n := 0
		kt.each(func(k string, d *dests[int]) {
			n++
			if ref[k] != d {
				t.Fatalf("each: %q has the wrong set", k)
			}
		})
		if n != len(ref) {
			t.Fatalf("each saw %d keys, want %d", n, len(ref))
		}
		for k, d := range ref {
			if kt.get([]byte(k)) != d || kt.getString(k) != d {
				t.Fatalf("get %q: wrong set", k)
			}
		}
	}
	for i := range 30000 {
		k := fmt.Sprint("k", i%9000)
		if i%3 == 2 {
			k = fmt.Sprint("k", (i*7)%9000)
			kt.set(k, nil)
			delete(ref, k)
		} else {
			d := &dests[int]{qs: []int{i}}
			kt.set(k, d)
			ref[k] = d
		}
		if i%5000 == 0 {
			check()
		}
	}
	check()
	if got := kt.get([]byte("absent")); got != nil {
		t.Fatal("absent key found")
	}
	grown := len(kt.t.Load().slots)
	for k := range ref {
		kt.set(k, nil)
		delete(ref, k)
	}
	check()
	if t2 := kt.t.Load(); t2 != nil && len(t2.slots) >= grown {
		t.Fatalf("never shrank: %d slots", len(t2.slots))
	}
}

// Readers that never lock always find the keys that stay bound while a
// writer adds and deletes others and the table grows, shrinks and is
// rebuilt under them. Its value is mostly under -race.
func TestKeyTableConcurrent(t *testing.T) {
	var kt keyTable[int]
	var mu sync.Mutex // the exchange's mutex: one writer at a time
	stay := &dests[int]{qs: []int{-1}}
	mu.Lock()
	for i := range 100 {
		kt.set(fmt.Sprint("stay", i), stay)
	}
	mu.Unlock()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			k := fmt.Sprint("churn", i%5000)
			if (i/5000)%2 == 0 {
				kt.set(k, &dests[int]{qs: []int{i}})
			} else {
				kt.set(k, nil)
			}
			mu.Unlock()
		}
	})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for n := range 200000 {
				k := []byte(fmt.Sprint("stay", n%100))
				if kt.get(k) != stay {
					t.Errorf("%s missed", k)
					return
				}
			}
		})
	}
	readers.Wait()
	close(stop)
	wg.Wait()
}
