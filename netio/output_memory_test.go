package netio_test

import (
	"bufio"
	"net"
	"runtime"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// After a burst of large messages to consumers that did not read, and all
// connections closed, the heap comes back near where it was without
// anything else running a GC: what gnet buffered for the slow sockets goes
// to a sync.Pool on close and used to stay there (60-190 MB in issue 14)
// until the next two GCs, which an idle broker does not run for minutes.
func TestOutputMemoryReturnsAfterSlowConsumersClose(t *testing.T) {
	if raceEnabled {
		t.Skip("heap figures are meaningless under -race")
	}
	needLocal(t)
	const consumers, messages, size = 6, 16, 512 << 10
	in := startTestInstance(t, t.TempDir())
	c, err := dialURL(t, in.url, amqp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ch := channel(t, c)
	x := name(t, "fan")
	if err := ch.ExchangeDeclare(x, "fanout", false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	var raws []net.Conn
	var last string
	for range consumers {
		q, err := ch.QueueDeclare("", false, true, false, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		bindQueue(t, ch, q.Name, "", x, nil)
		last = q.Name
		nc, err := net.DialTimeout("tcp", in.addr, waitTimeout)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(3 * waitTimeout))
		r := &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
		r.open()
		r.sendMethod(1, 60, 20, u16(0), shortstr(q.Name), shortstr(""), bits(false, true, false, false), emptyTable)
		r.expect(1, 60, 21)
		raws = append(raws, nc) // and never read again
	}
	runtime.GC()
	base := heapNow()
	body := make([]byte, size)
	for range messages {
		publish(t, ch, x, "", amqp.Publishing{Body: body})
	}
	roundTrip(t, ch, last) // the publishes are routed by now
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	peak := heapNow()
	for _, nc := range raws {
		_ = nc.Close()
	}
	// Nothing allocates from here on but this loop: no GC runs by itself.
	const slack = 8 << 20
	deadline := time.Now().Add(15 * time.Second)
	for {
		h := heapNow()
		if h <= base+slack {
			t.Logf("heap %d MB before, %d MB with the slow consumers, %d MB after they closed", base>>20, peak>>20, h>>20)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("heap %d MB 15 s after the connections closed, %d MB before the burst (%d MB at its peak)", h>>20, base>>20, peak>>20)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// heapNow is the heap in use as it is, without a GC.
func heapNow() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
