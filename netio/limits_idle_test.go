package netio_test

import (
	"bufio"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/netio"
)

// idleConnBudget is issue 16's bound on what an idle connection with one
// channel may cost (RabbitMQ: ~100 KB, LavinMQ: ~70 KB).
const idleConnBudget = 20 << 10

// 500 idle connections with a channel each cost the broker at most
// idleConnBudget apiece in heap and stacks (the clients here are raw
// sockets with 16-byte read buffers, so nearly all of it is the broker's;
// bench/cmd/warren-conns measures the process RSS at 10,000).
func TestIdleConnectionCost(t *testing.T) {
	u := startLimited(t, netio.Config{})
	addr := strings.TrimSuffix(strings.TrimPrefix(u, "amqp://guest:guest@"), "/")
	const n = 500
	before := inUse()
	conns := make([]*rawConn, 0, n)
	for range n {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = nc.Close() })
		r := &rawConn{t: t, nc: nc, br: bufio.NewReaderSize(nc, 16)}
		r.open()
		conns = append(conns, r)
	}
	after := inUse()
	per := (int64(after) - int64(before)) / n
	t.Logf("%d idle connections: %d bytes each (heap and stacks)", n, per)
	if per > idleConnBudget {
		t.Fatalf("an idle connection with one channel costs %d bytes, over the %d budget", per, idleConnBudget)
	}
	runtime.KeepAlive(conns)
}

func inUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// A consumer that stops reading (while its TCP connection stays up) has
// at most the output budget waiting, and is closed once nothing has left
// for WriteStallTimeout; its no-ack consumer goes with it.
func TestStalledReaderClosed(t *testing.T) {
	u := startLimited(t, netio.Config{WriteStallTimeout: time.Second})
	addr := strings.TrimSuffix(strings.TrimPrefix(u, "amqp://guest:guest@"), "/")
	c, err := dialURL(t, u, amqp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ch := channel(t, c)
	q := "stalled"
	if _, err := ch.QueueDeclare(q, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 64<<10)
	for range 400 { // 25 MiB: more than the budget and both socket buffers
		if err := ch.Publish("", q, false, false, amqp.Publishing{Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	r := &rawConn{t: t, nc: nc, br: bufio.NewReaderSize(nc, 16)}
	r.open()
	r.sendMethod(1, 60, 20, u16(0), shortstr(q), shortstr("stalled"), bits(false, true, false, true), emptyTable)
	// From here on the client reads nothing.
	eventually(t, func() bool {
		st, err := ch.QueueDeclarePassive(q, false, false, false, false, nil)
		return err == nil && st.Consumers == 0 && st.Messages < 400
	}, "the stalled consumer's connection closed")
}
