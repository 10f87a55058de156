//go:build linux

package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/segment/smallfs"
)

// The disk alarm raised while a publisher streams confirmed persistent
// messages (a file filling the data dir's small tmpfs past
// disk_free_limit): the publisher hears connection.blocked, Warren is
// killed with SIGKILL while it is blocked, and after the restart every
// message confirmed before or after the block is in the queue, byte for
// byte. TestDiskAlarmKillWhileBlocked covers an alarm already on at start.
func TestDiskAlarmMidStreamKillWhileBlocked(t *testing.T) {
	const limit = 48_000_000
	mnt := smallfs.Mount(t, 128<<20)
	conf := writeConf(t, "disk_free_limit.absolute = "+strconv.Itoa(limit)+"\n")
	opts := procOptions{args: []string{"-config", conf, "-segment-size", "1048576"}}
	p := startWarren(t, mnt, opts)

	bodyOf := func(i int) []byte {
		b := make([]byte, 500+i%2500)
		for j := range b {
			b[j] = byte(i*7 + j*13)
		}
		return b
	}
	c, err := dialTune(p.url)
	if err != nil {
		t.Fatal(err)
	}
	blocked := c.NotifyBlocked(make(chan amqp.Blocking, 4))
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare("alarm-midstream", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 1<<17))
	var mu sync.Mutex
	confirmed := map[int]bool{}
	nacked := 0
	go func() {
		for cf := range confirms {
			mu.Lock()
			if cf.Ack {
				confirmed[int(cf.DeliveryTag)-1] = true
			} else {
				nacked++
			}
			mu.Unlock()
		}
	}()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(confirmed)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	published := make(chan int, 1)
	go func() {
		// A blocked connection is not read: once the socket buffers fill,
		// Publish stalls here until the kill ends the connection. About
		// 5,000 messages (9 MB) a second: the space left under the limit
		// must outlast the monitor's next check (tmpfs takes far more).
		i := 0
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil && i < 1<<16 {
			for range 50 {
				m := amqp.Publishing{DeliveryMode: amqp.Persistent, MessageId: strconv.Itoa(i), Body: bodyOf(i)}
				if ch.Publish("", "alarm-midstream", false, false, m) != nil {
					published <- i
					return
				}
				i++
			}
			<-tick.C
		}
		published <- i
	}()

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("no %s within 30 s (%d confirmed)", what, count())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("200 confirms before the alarm", func() bool { return count() >= 200 })
	// Fill 1 MiB at a time until free space is just under the limit: the
	// monitor reads the disk once a second when far from the limit, and
	// the publisher must not fill the rest before it does (then the
	// store's ENOSPC would nack, TestDiskFullKillRestart's case).
	filler, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	for chunk := make([]byte, 1<<20); ; {
		var st syscall.Statfs_t
		if err := syscall.Statfs(mnt, &st); err != nil {
			t.Fatal(err)
		}
		if int64(st.Bavail)*st.Bsize < limit-4<<20 {
			break
		}
		if _, err := filler.Write(chunk); err != nil {
			break // full: the alarm is certain
		}
	}
	_ = filler.Close()
	select {
	case b := <-blocked:
		if !b.Active || b.Reason != "low on disk" {
			t.Fatalf("got %+v, want blocked low on disk", b)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no connection.blocked 30 s after the disk filled (%d confirmed)", count())
	}
	beforeKill := count()
	mu.Lock()
	if nacked > 0 {
		t.Errorf("%d publishes nacked: the disk filled before the alarm blocked the publisher; log:\n%s", nacked, tail(p.log(), 3000))
	}
	mu.Unlock()
	time.Sleep(time.Second) // confirms of what was read before the block
	p.kill()
	cancel()
	n := <-published
	_ = c.Close()
	mu.Lock()
	kept := make(map[int]bool, len(confirmed))
	for i := range confirmed {
		kept[i] = true
	}
	mu.Unlock()
	if len(kept) >= n {
		t.Fatalf("all %d publishes confirmed although the publisher was blocked", n)
	}

	if err := os.Remove(filepath.Join(mnt, "filler")); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	conf = writeConf(t, "disk_free_limit.absolute = 1000000\n")
	p = startWarren(t, mnt, procOptions{args: []string{"-config", conf, "-segment-size", "1048576"}})
	c2 := mustDial(t, p.url)
	defer c2.Close()
	ch2, err := c2.Channel()
	if err != nil {
		t.Fatal(err)
	}
	seen := drainByMessageID(t, ch2, "alarm-midstream", bodyOf)
	lost := 0
	for i := range kept {
		if !seen[i] {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d confirmed messages lost", lost, len(kept))
	}
	t.Logf("%d published, %d confirmed (%d by the block, %d after it), %d in the queue after the restart", n, len(kept), beforeKill, len(kept)-beforeKill, len(seen))
}
