//go:build linux

package main

import (
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/amqp"
	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/stream"
)

// kill -9 while a stream-protocol producer publishes with confirms: after
// the restart every confirmed message is there, in order, at the offset it
// had, and nothing unsent is.
func TestStreamProtoKillDuringPublish(t *testing.T) {
	dir := t.TempDir() + "/data"
	w := startStreamWarren(t, dir)
	env := w.env(t)
	const name = "s-crash"
	if err := env.DeclareStream(name, nil); err != nil {
		t.Fatal(err)
	}
	p, err := env.NewProducer(name, stream.NewProducerOptions().SetBatchSize(200))
	if err != nil {
		t.Fatal(err)
	}
	var maxConfirmed atomic.Int64
	var confirmedN atomic.Int64
	go func() {
		for cs := range p.NotifyPublishConfirmation() {
			for _, c := range cs {
				if c.IsConfirmed() {
					confirmedN.Add(1)
					for {
						m := maxConfirmed.Load()
						if c.GetPublishingId() <= m || maxConfirmed.CompareAndSwap(m, c.GetPublishingId()) {
							break
						}
					}
				}
			}
		}
	}()
	var sent atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for id := int64(1); ; id++ {
			select {
			case <-stop:
				return
			default:
			}
			m := amqp.NewMessage([]byte(fmt.Sprintf("m-%d", id)))
			m.SetPublishingId(id)
			if p.Send(m) != nil {
				return
			}
			sent.Store(id)
		}
	}()
	if !spWait(60*time.Second, func() bool { return confirmedN.Load() > 20000 }) {
		t.Fatalf("only %d confirmed", confirmedN.Load())
	}
	w.signal(syscall.SIGKILL, 10*time.Second)
	close(stop)
	wg.Wait()
	confirmed := maxConfirmed.Load()
	if confirmedN.Load() != confirmed {
		t.Logf("confirms out of order or missing: %d confirms, highest id %d", confirmedN.Load(), confirmed)
	}

	w2 := startStreamWarren(t, dir)
	env2 := w2.env(t)
	var g got
	c, err := env2.NewConsumer(name, g.handler, stream.NewConsumerOptions().SetOffset(stream.OffsetSpecification{}.First()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	g.wait(t, int(confirmed))
	time.Sleep(300 * time.Millisecond)
	g.mu.Lock()
	defer g.mu.Unlock()
	if int64(len(g.body)) > sent.Load() {
		t.Fatalf("%d stored, only %d sent", len(g.body), sent.Load())
	}
	for i, b := range g.body {
		if b != fmt.Sprintf("m-%d", i+1) || g.offs[i] != int64(i) {
			t.Fatalf("offset %d: %q (want m-%d at %d)", g.offs[i], b, i+1, i)
		}
	}
	t.Logf("sent %d, confirmed up to %d, %d after restart", sent.Load(), confirmed, len(g.body))
}

// Single active consumer on a super stream: two consumers of one group
// split the 3 partitions, each partition delivering to exactly one; when
// one consumer goes, the other takes its partitions over.
func TestStreamProtoSuperStreamSingleActiveConsumer(t *testing.T) {
	w := startStreamWarren(t, t.TempDir()+"/data")
	env := w.env(t)
	const super = "sacss"
	if err := env.DeclareSuperStream(super, stream.NewPartitionsOptions(3)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		part := fmt.Sprintf("%s-%d", super, i)
		p, err := env.NewProducer(part, nil)
		if err != nil {
			t.Fatal(err)
		}
		publishConfirmed(t, p, bodies(part, 10))
		_ = p.Close()
	}
	type recv struct {
		mu    sync.Mutex
		parts map[string]int
	}
	newRecv := func() *recv { return &recv{parts: map[string]int{}} }
	start := func(r *recv) *stream.SuperStreamConsumer {
		sac := stream.NewSingleActiveConsumer(func(string, bool) stream.OffsetSpecification {
			return stream.OffsetSpecification{}.First()
		})
		sc, err := env.NewSuperStreamConsumer(super, func(ctx stream.ConsumerContext, m *amqp.Message) {
			r.mu.Lock()
			r.parts[ctx.Consumer.GetStreamName()]++
			r.mu.Unlock()
		}, stream.NewSuperStreamConsumerOptions().SetConsumerName("grp").SetSingleActiveConsumer(sac))
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	a, b := newRecv(), newRecv()
	sa := start(a)
	if !spWait(20*time.Second, func() bool { a.mu.Lock(); defer a.mu.Unlock(); return len(a.parts) == 3 }) {
		t.Fatalf("first consumer reads %v", a.parts)
	}
	sb := start(b)
	defer sb.Close()
	// The second member takes the partitions at index mod 2 == 1.
	if !spWait(20*time.Second, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return b.parts[super+"-1"] == 10 }) {
		t.Fatalf("second consumer reads %v", b.parts)
	}
	time.Sleep(300 * time.Millisecond)
	b.mu.Lock()
	if b.parts[super+"-0"] != 0 || b.parts[super+"-2"] != 0 {
		t.Fatalf("second consumer also reads %v", b.parts)
	}
	b.mu.Unlock()
	_ = sa.Close()
	if !spWait(20*time.Second, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.parts[super+"-0"] == 10 && b.parts[super+"-2"] == 10
	}) {
		t.Fatalf("after the first left, the second reads %v", b.parts)
	}
}
