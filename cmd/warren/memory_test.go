package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// rssAnon is the process's resident anonymous memory (the Go heap, not the
// file pages of mapped segments) in bytes.
func rssAnon(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read status: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "RssAnon:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatalf("RssAnon %q: %v", l, err)
			}
			return kb << 10
		}
	}
	t.Skip("no RssAnon in /proc/pid/status")
	return 0
}

// After channels each publish one large message and it is fetched with
// basic.get, the broker's memory comes back down by itself while the
// connection stays open: neither the channels' assembly buffers nor the
// delivery's output buffers stay resident.
func TestLargeMessagesMemoryComesBack(t *testing.T) {
	if raceBuild() {
		t.Skip("the race detector's shadow memory makes RSS figures meaningless")
	}
	const channels, size = 4, 40 << 20
	p := startWarren(t, filepath.Join(t.TempDir(), "data"), procOptions{})
	pid := p.cmd.Process.Pid
	c := mustDial(t, p.url)
	ch0, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ch0.QueueDeclare("big", false, false, false, false, nil)
	if err != nil {
		t.Fatalf("queue.declare: %v", err)
	}
	base := rssAnon(t, pid)
	body := make([]byte, size)
	withTimeout(t, 60*time.Second, "publish and get", func() {
		for range channels {
			ch, err := c.Channel()
			if err != nil {
				t.Error(err)
				return
			}
			_ = ch.Confirm(false)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", q.Name, false, false, amqp.Publishing{Body: body})
			if err == nil {
				var ok bool
				ok, err = dc.WaitContext(ctx)
				if !ok && err == nil {
					err = fmt.Errorf("nacked")
				}
			}
			cancel()
			if err != nil {
				t.Errorf("publish: %v", err)
				return
			}
		}
		for range channels {
			m, ok, err := ch0.Get(q.Name, true)
			if err != nil || !ok || len(m.Body) != size {
				t.Errorf("basic.get: ok=%v err=%v len=%d", ok, err, len(m.Body))
				return
			}
		}
	})
	if t.Failed() {
		return
	}
	// What is left is about one body: gnet's outbound buffer keeps the
	// capacity of the largest write it had to queue (the last memory point
	// of the faults-and-limits work), which this test does not cover; a
	// busy machine's late GC can leave up to one more. Channels that kept
	// their assembly buffers held 557 MB here.
	const slack = 3*size + 16<<20
	deadline := time.Now().Add(20 * time.Second)
	var now int64
	for {
		now = rssAnon(t, pid)
		if now-base < slack || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("anonymous RSS %d MB before, %d MB after %d x %d MB published and got", base>>20, now>>20, channels, size>>20)
	if now-base >= slack {
		t.Fatalf("anonymous RSS still %d MB above where it started 20 s after the messages were gone; want under %d MB", (now-base)>>20, slack>>20)
	}
}
