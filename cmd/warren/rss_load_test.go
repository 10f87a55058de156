//go:build linux

package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// rssLoadBound is issue 19's bound on the broker's RSS under load and after.
const rssLoadBound = 64 << 20

// One full-speed amqp091-go publisher and an auto-ack consumer that falls
// behind it (1 KiB bodies) keep the broker process under rssLoadBound,
// while they run and after they leave. gnet used to copy every write's
// leftover for the lagging consumer into its byte-slice pool: RSS rose to
// 160-260 MB within 10 s (issue 19).
func TestRSSBoundedUnderFullSpeedPair(t *testing.T) {
	if raceBuild() {
		t.Skip("RSS is meaningless under the race detector")
	}
	p := startWarren(t, filepath.Join(t.TempDir(), "data"), procOptions{})
	pid := p.cmd.Process.Pid
	pc, cc := mustDial(t, p.url), mustDial(t, p.url)
	pch, err := pc.Channel()
	if err != nil {
		t.Fatal(err)
	}
	cch, err := cc.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q, err := pch.QueueDeclare("rss-load", false, true, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	deliveries, err := cch.Consume(q.Name, "", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got int
	go func() {
		for range deliveries {
			got++
		}
	}()
	body := make([]byte, 1024)
	var peak, peakAnon int64
	next := time.Now()
	for end := time.Now().Add(8 * time.Second); time.Now().Before(end); {
		if err := pch.PublishWithContext(context.Background(), "", q.Name, false, false, amqp.Publishing{Body: body}); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(next) {
			peak, peakAnon = max(peak, vmRSS(t, pid)), max(peakAnon, rssAnon(t, pid))
			next = time.Now().Add(100 * time.Millisecond)
		}
	}
	_ = pc.Close()
	_ = cc.Close()
	after, afterAnon := settledRSS(t, pid)
	t.Logf("RSS peak %.1f MiB (anon %.1f) under the pair, %.1f MiB (anon %.1f) after; %d delivered",
		mib(peak), mib(peakAnon), mib(after), mib(afterAnon), got)
	if peak > rssLoadBound || after > rssLoadBound {
		t.Fatalf("RSS %.1f MiB under load, %.1f MiB after: over %d MiB", mib(peak), mib(after), rssLoadBound>>20)
	}
}
