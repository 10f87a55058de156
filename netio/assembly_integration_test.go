package netio_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/netio"
)

// startLargeInstance starts a private Warren that takes messages up to
// maxSize, stopped at cleanup.
func startLargeInstance(t *testing.T, maxSize int64) (*netio.Server, string) {
	t.Helper()
	b, err := broker.Open(broker.Config{DataDir: t.TempDir(), MaxMessageSize: maxSize})
	if err != nil {
		t.Fatalf("broker.Open: %v", err)
	}
	srv := netio.NewServer(netio.Config{Addr: "127.0.0.1:0", Heartbeat: 60}, b)
	errc := make(chan error, 1)
	go func() { errc <- srv.Run() }()
	select {
	case <-srv.Ready():
	case err := <-errc:
		_ = b.Close()
		t.Fatalf("server.Run: %v", err)
	case <-time.After(60 * time.Second):
		_ = b.Close()
		t.Fatal("server not ready after 60s")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("stop server: %v", err)
		}
		<-errc
		if err := b.Close(); err != nil {
			t.Errorf("close broker: %v", err)
		}
	})
	addr, err := srv.Addr()
	if err != nil {
		t.Fatal(err)
	}
	return srv, "amqp://guest:guest@" + addr.String() + "/"
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// publishConfirmed publishes body on a fresh confirming channel and waits
// for the broker to confirm it, that is until the message is stored.
func publishConfirmed(t *testing.T, c *amqp.Connection, queue string, body []byte) *amqp.Channel {
	t.Helper()
	ch, err := c.Channel()
	if err != nil {
		t.Fatalf("open channel: %v", err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatalf("confirm.select: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", queue, false, false, amqp.Publishing{Body: body})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	ok, err := dc.WaitContext(ctx)
	if err != nil || !ok {
		t.Fatalf("confirm: ok=%v err=%v", ok, err)
	}
	return ch
}

// A channel that assembled a large body lets it go once the message is
// stored: channels that each published one large message do not keep one
// buffer of its size each while they stay open.
func TestLargeBodyBufferIsReleased(t *testing.T) {
	const channels, size = 6, 24 << 20
	_, url := startLargeInstance(t, 64<<20)
	c, err := dialURL(t, url, amqp.Config{})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	setup, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q, err := setup.QueueDeclare("", false, false, true, false, nil)
	if err != nil {
		t.Fatalf("queue.declare: %v", err)
	}
	before := liveHeap()
	open := make([]*amqp.Channel, 0, channels)
	for range channels {
		open = append(open, publishConfirmed(t, c, q.Name, make([]byte, size)))
	}
	after := liveHeap()
	grown := int64(after) - int64(before)
	t.Logf("live heap %d MB before, %d MB after %d open channels published %d MB each", before>>20, after>>20, channels, size>>20)
	if grown > 2*size {
		t.Fatalf("live heap grew by %d MB with the channels idle; want under %d MB, not one body per channel", grown>>20, 2*size>>20)
	}
	runtime.KeepAlive(open)
}

// Bodies being assembled are bounded by a budget: a publish that would go
// over it closes the connection with 506 RESOURCE_ERROR, and what a stored
// message had reserved is given back, so publishing within it goes on.
func TestAssemblyBudget(t *testing.T) {
	const size = 4 << 20
	srv, url := startLargeInstance(t, 64<<20)
	netio.SetAssemblyLimit(srv, 5<<20)
	c, err := dialURL(t, url, amqp.Config{})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	setup, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q, err := setup.QueueDeclare("", false, false, true, false, nil)
	if err != nil {
		t.Fatalf("queue.declare: %v", err)
	}
	for range 3 { // each fits; together they would not
		publishConfirmed(t, c, q.Name, make([]byte, size))
	}

	closed := c.NotifyClose(make(chan *amqp.Error, 1))
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Publish("", q.Name, false, false, amqp.Publishing{Body: make([]byte, 6<<20)}); err != nil && !errors.Is(err, amqp.ErrClosed) {
		t.Fatalf("publish: %v", err)
	}
	select {
	case e := <-closed:
		if e == nil || e.Code != amqp.ResourceError || !strings.Contains(e.Reason, "assemble") {
			t.Fatalf("connection closed with %v; want 506 RESOURCE_ERROR about assembly", e)
		}
	case <-time.After(waitTimeout):
		t.Fatal("no connection.close after a publish over the assembly budget")
	}
}
