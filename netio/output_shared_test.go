package netio_test

import (
	"bufio"
	"net"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/netio"
)

// Many consumers behind at once share one output budget: 12 connections
// that stopped reading hold about netio.TotalOutputBudget between them
// (plus a message each past the line), not a full per-connection budget
// each. Issue 19: 32 consumers lagging their publishers held 1 MiB of
// output apiece, and the broker's RSS rose to 110-120 MB.
func TestOutputBudgetSharedByBusyConnections(t *testing.T) {
	needLocal(t)
	const conns, size, perQueue = 12, 32 << 10, 256 // 8 MiB a queue
	in := startTestInstance(t, t.TempDir())
	c, err := dialURL(t, in.url, amqp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ch := channel(t, c)
	var queues []string
	for i := range conns {
		q, err := ch.QueueDeclare(name(t, "shared"+itoa(i)), false, true, false, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		queues = append(queues, q.Name)
		nc, err := net.DialTimeout("tcp", in.addr, waitTimeout)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		// A small receive buffer, so the kernel takes little and the
		// broker's own output reaches its budget.
		_ = nc.(*net.TCPConn).SetReadBuffer(64 << 10)
		_ = nc.SetDeadline(time.Now().Add(3 * waitTimeout))
		r := &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
		r.open()
		r.sendMethod(1, 60, 20, u16(0), shortstr(q.Name), shortstr(""), bits(false, true, false, false), emptyTable)
		r.expect(1, 60, 21)
		// and never read again
	}
	body := make([]byte, size)
	for range perQueue {
		for _, q := range queues {
			publish(t, ch, "", q, amqp.Publishing{Body: body})
		}
	}
	for _, q := range queues {
		roundTrip(t, ch, q)
	}
	// Deliveries stop once every connection is over its budget: wait for
	// the figure to settle (bounded).
	held, stable := int64(0), 0
	for deadline := time.Now().Add(10 * time.Second); stable < 5 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		if h := netio.OutputHeld(in.srv); h == held {
			stable++
		} else {
			held, stable = h, 0
		}
	}
	limit := int64(netio.TotalOutputBudget + conns*(size+4096))
	t.Logf("%d connections that stopped reading hold %d KiB of output (limit %d KiB)", conns, held>>10, limit>>10)
	if held > limit {
		t.Fatalf("%d KiB held for %d stopped readers: more than the shared budget of %d KiB", held>>10, conns, limit>>10)
	}
	if held < netio.TotalOutputBudget/2 {
		t.Fatalf("only %d KiB held: the stopped readers did not reach their budget, the test shows nothing", held>>10)
	}
}
