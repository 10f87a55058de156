package netio_test

import (
	"bytes"
	"fmt"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/broker"
)

// forceAlarm raises or clears one alarm of in by moving its threshold past
// what the machine has, as rabbitmqctl set_disk_free_limit and
// set_vm_memory_high_watermark do on RabbitMQ.
func forceAlarm(t *testing.T, in *instance, alarm uint32, on bool) {
	t.Helper()
	a := in.b.Alarms()
	switch {
	case alarm == broker.AlarmDisk && on:
		a.SetDiskFreeLimit(1 << 62)
	case alarm == broker.AlarmDisk:
		a.SetDiskFreeLimit(1)
	case on:
		a.SetMemoryLimit(1)
	default:
		a.SetMemoryLimit(1 << 62)
	}
	eventually(t, func() bool { return (a.Active()&alarm != 0) == on }, "alarm %d to be %v", int(alarm), on)
}

func expectBlocking(t *testing.T, bl <-chan amqp.Blocking, active bool, reason string) {
	t.Helper()
	select {
	case b := <-bl:
		if b.Active != active || b.Reason != reason {
			t.Fatalf("got %+v, want active=%v reason %q", b, active, reason)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("no connection.blocked/unblocked (want active=%v)", active)
	}
}

// Both alarms: a publisher that publishes under the alarm hears
// connection.blocked with RabbitMQ's reason and is no longer read (nothing
// more it sends is stored or confirmed), a consumer-only connection keeps
// draining, and once the alarm clears the publisher hears
// connection.unblocked and every message it sent is confirmed and
// delivered byte for byte.
func TestAlarmBlocksPublisherNotConsumer(t *testing.T) {
	needLocal(t)
	for _, tc := range []struct {
		name   string
		alarm  uint32
		reason string
	}{{"disk", broker.AlarmDisk, "low on disk"}, {"memory", broker.AlarmMemory, "low on memory"}} {
		t.Run(tc.name, func(t *testing.T) {
			in := startTestInstance(t, t.TempDir())
			url := in.url
			pc, err := dialURL(t, url, amqp.Config{})
			if err != nil {
				t.Fatal(err)
			}
			blocked := pc.NotifyBlocked(make(chan amqp.Blocking, 4))
			pch := channel(t, pc)
			if err := pch.Confirm(false); err != nil {
				t.Fatal(err)
			}
			confirms := pch.NotifyPublish(make(chan amqp.Confirmation, 100))
			pubQ, drainQ := "alarm.pub", "alarm.drain"
			for _, q := range []string{pubQ, drainQ} {
				if _, err := pch.QueueDeclare(q, true, false, false, false, nil); err != nil {
					t.Fatal(err)
				}
			}
			const backlog = 50
			for i := 0; i < backlog; i++ {
				publish(t, pch, "", drainQ, amqp.Publishing{DeliveryMode: 2, Body: []byte(fmt.Sprint("old ", i))})
				<-confirms
			}
			cc, err := dialURL(t, url, amqp.Config{})
			if err != nil {
				t.Fatal(err)
			}
			cch := channel(t, cc)

			forceAlarm(t, in, tc.alarm, true)
			// The first publish under the alarm blocks the connection.
			bodies := [][]byte{bytes.Repeat([]byte{0, 1, 2, 255}, 1000)}
			publish(t, pch, "", pubQ, amqp.Publishing{DeliveryMode: 2, Body: bodies[0]})
			expectBlocking(t, blocked, true, tc.reason)
			for i := 1; i < 20; i++ {
				b := []byte(fmt.Sprintf("after block %d %s", i, bytes.Repeat([]byte{byte(i)}, i*100)))
				bodies = append(bodies, b)
				publish(t, pch, "", pubQ, amqp.Publishing{DeliveryMode: 2, Body: b})
			}
			// The consumer-only connection drains the backlog while the
			// publisher is blocked.
			ds := consume(t, cch, drainQ, "drainer", true)
			for i := 0; i < backlog; i++ {
				if d := recv(t, ds); string(d.Body) != fmt.Sprint("old ", i) {
					t.Fatalf("drained %q, want %q", d.Body, fmt.Sprint("old ", i))
				}
			}
			// Nothing the blocked publisher sent after the first message
			// was read: at most that one is stored and confirmed.
			if n := queueState(t, cc, pubQ).Messages; n > 1 {
				t.Fatalf("%d messages stored from a blocked publisher, want at most 1", n)
			}
			select {
			case c := <-confirms:
				if c.DeliveryTag > backlog+1 {
					t.Fatalf("confirm %d while blocked", c.DeliveryTag)
				}
			default:
			}

			forceAlarm(t, in, tc.alarm, false)
			expectBlocking(t, blocked, false, "")
			seen := 0
			for seen < len(bodies) {
				select {
				case c := <-confirms:
					if !c.Ack {
						t.Fatalf("publish %d nacked", c.DeliveryTag)
					}
					seen = int(c.DeliveryTag) - backlog
				case <-time.After(waitTimeout):
					t.Fatalf("%d of %d confirms after the alarm cleared", seen, len(bodies))
				}
			}
			got := consume(t, cch, pubQ, "checker", true)
			for i, want := range bodies {
				if d := recv(t, got); !bytes.Equal(d.Body, want) {
					t.Fatalf("message %d: %d bytes differ from the %d published", i, len(d.Body), len(want))
				}
			}
		})
	}
}

// countingConn counts the bytes the client managed to write.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.n.Add(int64(n))
	return n, err
}

// A blocked publisher flooding the broker is not read: its writes stall
// (the socket's backpressure reaches the client), the broker's memory
// stays flat, and once the alarm clears everything it sent arrives.
func TestAlarmBlockedPublisherInputBounded(t *testing.T) {
	needLocal(t)
	in := startTestInstance(t, t.TempDir())
	var written atomic.Int64
	pc, err := dialURL(t, in.url, amqp.Config{Dial: func(network, addr string) (net.Conn, error) {
		nc, err := net.DialTimeout(network, addr, waitTimeout)
		if err != nil {
			return nil, err
		}
		return countingConn{nc, &written}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	blocked := pc.NotifyBlocked(make(chan amqp.Blocking, 4))
	pch := channel(t, pc)
	q := "alarm.flood"
	if _, err := pch.QueueDeclare(q, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	forceAlarm(t, in, broker.AlarmDisk, true)
	heapBefore := heapInUse()

	const size, total = 64 << 10, 2000 // 125 MiB offered
	body := bytes.Repeat([]byte("x"), size)
	sent := make(chan error, 1)
	go func() {
		for i := 0; i < total; i++ {
			if err := pch.Publish("", q, false, false, amqp.Publishing{Body: body}); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	expectBlocking(t, blocked, true, "low on disk")

	// The client's writes stall well short of what it wants to send.
	var stalled int64
	eventually(t, func() bool {
		before := written.Load()
		time.Sleep(300 * time.Millisecond)
		stalled = written.Load()
		return stalled == before
	}, "the blocked publisher's writes to stall")
	if stalled > 48<<20 {
		t.Fatalf("client wrote %d MiB before stalling, want a few MiB of socket buffers", stalled>>20)
	}
	select {
	case err := <-sent:
		t.Fatalf("all %d publishes went out while blocked (err %v)", total, err)
	default:
	}
	if grew := heapInUse() - heapBefore; grew > 32<<20 {
		t.Fatalf("broker heap grew %d MiB while the publisher was blocked", grew>>20)
	}
	t.Logf("blocked publisher: client wrote %.1f MiB before its writes stalled; heap in use %+.1f MiB",
		float64(stalled)/(1<<20), float64(heapInUse()-heapBefore)/(1<<20))

	forceAlarm(t, in, broker.AlarmDisk, false)
	expectBlocking(t, blocked, false, "")
	select {
	case err := <-sent:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("the flood did not finish after the alarm cleared")
	}
	waitMessages(t, pc, q, total)
}

// heapInUse is the process's live heap (the broker runs in the test).
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// A broker shutting down closes a blocked publisher like any other: its
// close-ok is read although the alarm is still on.
func TestAlarmBlockedPublisherClosedOnStop(t *testing.T) {
	needLocal(t)
	in := startTestInstance(t, t.TempDir())
	pc, err := dialURL(t, in.url, amqp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	blocked := pc.NotifyBlocked(make(chan amqp.Blocking, 4))
	closed := pc.NotifyClose(make(chan *amqp.Error, 1))
	pch := channel(t, pc)
	forceAlarm(t, in, broker.AlarmMemory, true)
	publish(t, pch, "", "no-such-queue", amqp.Publishing{Body: []byte("x")})
	expectBlocking(t, blocked, true, "low on memory")
	start := time.Now()
	if err := in.stop(); err != nil {
		t.Fatalf("stop with a blocked publisher: %v", err)
	}
	select {
	case e := <-closed:
		if e == nil || e.Code != amqp.ConnectionForced {
			t.Fatalf("close %v, want 320 CONNECTION_FORCED", e)
		}
	case <-time.After(waitTimeout):
		t.Fatal("blocked publisher never heard the shutdown")
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("stop took %v: the blocked connection's close-ok was not read", d)
	}
}
