package netio_test

import (
	"bufio"
	"net"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/netio"
)

// A consumer that stopped reading, with its socket full and output held,
// is polled less and less often: the drain poller backs off to 64 ms when
// nothing drains, instead of waking it every millisecond.
func TestDrainPollBacksOffForStoppedReader(t *testing.T) {
	needLocal(t)
	in := startTestInstance(t, t.TempDir())
	c, err := dialURL(t, in.url, amqp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ch := channel(t, c)
	q, err := ch.QueueDeclare(name(t, "stopped"), false, true, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
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
	// and never read again: 64 MiB fill the socket buffers and the budget.
	body := make([]byte, 64<<10)
	for range 1024 {
		publish(t, ch, "", q.Name, amqp.Publishing{Body: body})
	}
	roundTrip(t, ch, q.Name)
	time.Sleep(time.Second) // the back-off reaches its cap
	before := netio.DrainWakes()
	time.Sleep(2 * time.Second)
	wakes := netio.DrainWakes() - before
	t.Logf("%d drain wake-ups in 2 s for a reader that stopped", wakes)
	if wakes == 0 {
		t.Fatal("the stopped reader's output was never polled")
	}
	if wakes > 200 {
		t.Fatalf("%d drain wake-ups in 2 s: the poller does not back off", wakes)
	}
}
