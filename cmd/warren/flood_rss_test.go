//go:build linux

package main

import (
	"context"
	"io/fs"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// floodAnonBound bounds the broker's anonymous memory while 20
// publishers flood a queue nobody consumes (docs/BENCHMARKS.md has the
// 60 s run: 14-21 MiB).
const floodAnonBound = 64 << 20

// 20 publishers of 1 KiB non-persistent messages to a queue with no
// consumer: the messages go to the queue's segment files, not the heap,
// so the broker's anonymous memory stays flat and bounded while the data
// dir grows (issue 16: "memory never grows with a publisher flood").
func TestTransientFloodMemoryBounded(t *testing.T) {
	if raceBuild() {
		t.Skip("RSS is meaningless under the race detector")
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startWarren(t, dataDir, procOptions{})
	pid := p.cmd.Process.Pid
	setup := mustDial(t, p.url)
	sch, err := setup.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sch.QueueDeclare("flood", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	_ = setup.Close()

	// 4 s at full speed writes about 1 GB here: enough to see a trend,
	// and the temp dir goes with the test.
	const publishers = 20
	var chans []*amqp.Channel
	for range publishers {
		c := mustDial(t, p.url)
		defer c.Close()
		ch, err := c.Channel()
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	var sent atomic.Int64
	var wg sync.WaitGroup
	body := make([]byte, 1024)
	for _, ch := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if ch.Publish("", "flood", false, false, amqp.Publishing{Body: body}) != nil {
					return
				}
				sent.Add(1)
			}
		}()
	}
	type sample struct {
		at         time.Duration
		anon, disk int64
	}
	var samples []sample
	start := time.Now()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for ctx.Err() == nil {
		select {
		case <-tick.C:
			samples = append(samples, sample{time.Since(start).Round(100 * time.Millisecond), rssAnon(t, pid), dirSize(dataDir)})
		case <-ctx.Done():
		}
	}
	wg.Wait()
	if len(samples) < 8 {
		t.Fatalf("%d samples in 4 s", len(samples))
	}
	var firstHalf, secondHalf int64
	for i, s := range samples {
		if i < len(samples)/2 {
			firstHalf = max(firstHalf, s.anon)
		} else {
			secondHalf = max(secondHalf, s.anon)
		}
		t.Logf("%5v  anon %5.1f MiB  data dir %6.0f MiB", s.at, mib(s.anon), mib(s.disk))
	}
	last := samples[len(samples)-1]
	t.Logf("%d messages (%.0f MiB) published by %d publishers", sent.Load(), mib(sent.Load()<<10), publishers)
	if last.disk < sent.Load()<<10/2 {
		t.Errorf("data dir %.0f MiB for %.0f MiB published: where are the messages?", mib(last.disk), mib(sent.Load()<<10))
	}
	if max(firstHalf, secondHalf) > floodAnonBound {
		t.Errorf("anonymous memory peaked at %.1f MiB, over %d MiB", mib(max(firstHalf, secondHalf)), floodAnonBound>>20)
	}
	// Flat: the second half of the run holds no more than the first, give
	// or take what a busy machine's GC timing moves (16 MiB).
	if secondHalf > firstHalf+16<<20 {
		t.Errorf("anonymous memory grows with the flood: %.1f MiB in the first half, %.1f MiB in the second", mib(firstHalf), mib(secondHalf))
	}
}

// dirSize is the bytes the files under dir hold on disk (preallocated
// segment space included, as du counts it).
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
