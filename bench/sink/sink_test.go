package sink

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/warrenmq/warren/bench/fast"
)

func TestSinkWithFastClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip("no loopback:", err)
	}
	var s Server
	done := make(chan error)
	go func() { done <- s.Serve(ln) }()
	uri := "amqp://guest:guest@" + ln.Addr().String() + "/"
	c, err := fast.Dial(uri, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeclareQueue("q", true); err != nil {
		t.Fatal(err)
	}
	if err := c.BindQueue("q", "amq.topic", "k"); err != nil {
		t.Fatal(err)
	}
	p, err := fast.NewPublisher(c, fast.PublisherConfig{Keys: []string{"q"}, Size: 100, Confirms: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if err := p.Publish(p.MaxBatch()); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	want := uint64(100 * p.MaxBatch())
	if err := p.WaitConfirmed(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := p.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.Published.Load(); got != int64(want) {
		t.Fatalf("sink saw %d publishes, want %d", got, want)
	}
	p.Close()
	ln.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
