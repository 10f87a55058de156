package netio_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/netio"
)

// consumerTimedOut is RabbitMQ's close text for a delivery not acked in time.
func consumerTimedOut(ch uint16, ms int) string {
	return fmt.Sprintf("PRECONDITION_FAILED - delivery acknowledgement on channel %d timed out. Timeout value used: %d ms. This timeout value can be configured, see consumers doc guide to learn more", ch, ms)
}

// expectTimedOut consumes n messages from q without acking them and waits
// for the channel to be closed for it; then they must be back in q,
// marked redelivered.
func expectTimedOut(t *testing.T, c *amqp.Connection, q string, qArgs, consumeArgs amqp.Table, ms int) {
	t.Helper()
	ch := channel(t, c)
	if _, err := ch.QueueDeclare(q, false, false, false, false, qArgs); err != nil {
		t.Fatalf("declare %s: %v", q, err)
	}
	cleanupQueue(t, q)
	for i := range 3 {
		publishText(t, ch, "", q, fmt.Sprint("m", i))
	}
	closes := ch.NotifyClose(make(chan *amqp.Error, 1))
	ds, err := ch.Consume(q, "", false, false, false, false, consumeArgs)
	if err != nil {
		t.Fatalf("consume: %v", err)
	}
	for range 3 {
		recv(t, ds)
	}
	e := waitClosed(t, closes, amqp.PreconditionFailed, "channel holding unacked deliveries")
	if want := consumerTimedOut(1, ms); e.Reason != want {
		t.Fatalf("close reason %q, want %q", e.Reason, want)
	}
	ch2 := channel(t, c)
	for i := range 3 {
		d := mustGet(t, ch2, q, true, fmt.Sprint("m", i))
		if !d.Redelivered {
			t.Fatalf("message %d back in the queue without the redelivered flag", i)
		}
	}
}

// The queue's x-consumer-timeout (RabbitMQ 3.12) closes a channel whose
// oldest delivery from it stays unacked longer, and requeues what it held.
func TestConsumerTimeoutQueueArg(t *testing.T) {
	needLocal(t) // RabbitMQ 3.10 has only the global consumer_timeout
	expectTimedOut(t, dial(t), name(t, "q"), amqp.Table{"x-consumer-timeout": int32(300)}, nil, 300)
}

// A consumer's own x-consumer-timeout argument wins over the queue's.
func TestConsumerTimeoutConsumerArg(t *testing.T) {
	needLocal(t)
	expectTimedOut(t, dial(t), name(t, "q"), amqp.Table{"x-consumer-timeout": int32(3600000)}, amqp.Table{"x-consumer-timeout": int64(200)}, 200)
}

// Deliveries that are acked in time never close the channel, however long
// the consumer runs; a bad x-consumer-timeout is refused at consume.
func TestConsumerTimeoutAckedInTime(t *testing.T) {
	needLocal(t)
	c := dial(t)
	ch := channel(t, c)
	q := name(t, "q")
	if _, err := ch.QueueDeclare(q, false, false, false, false, amqp.Table{"x-consumer-timeout": int32(500)}); err != nil {
		t.Fatal(err)
	}
	cleanupQueue(t, q)
	ds, err := ch.Consume(q, "", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2500 * time.Millisecond)
	for i := 0; time.Now().Before(deadline); i++ {
		publishText(t, ch, "", q, fmt.Sprint("m", i))
		if err := recv(t, ds).Ack(false); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // pacing the consumer, not synchronisation
	}
	roundTrip(t, ch, q) // still open
	channelFails(t, c, amqp.PreconditionFailed, "consume with x-consumer-timeout 0", func(ch *amqp.Channel) error {
		_, err := ch.Consume(q, "", false, false, false, false, amqp.Table{"x-consumer-timeout": int32(0)})
		return err
	})
}

// A client that opens channel_max channels and one more gets RabbitMQ's
// 530: the connection closes, so a channel flood is bounded per connection.
func TestChannelMaxEnforced(t *testing.T) {
	r := dialRaw(t)
	r.handshake(handshakeOpts{chanMax: 3})
	for id := uint16(1); id <= 3; id++ {
		r.openChannel(id)
	}
	r.sendMethod(4, 20, 10, shortstr(""))
	text, _, _ := r.expectConnectionClose(amqp.NotAllowed)
	if want := "NOT_ALLOWED - number of channels opened (3) has reached the negotiated channel_max (3)"; text != want {
		t.Fatalf("close text %q, want %q", text, want)
	}
}

// RabbitMQ counts channels, not ids: a channel number above channel_max
// opens while fewer than channel_max are open.
func TestChannelMaxCountsChannels(t *testing.T) {
	r := dialRaw(t)
	r.handshake(handshakeOpts{chanMax: 2})
	r.openChannel(1)
	r.sendMethod(9, 20, 10, shortstr(""))
	f := r.next()
	if f.isMethod(10, 50) {
		code, text, _, _ := parseClose(f.payload[4:])
		t.Fatalf("channel 9 with channel_max 2: connection closed %d %q", code, text)
	}
	if f.ch != 9 || !f.isMethod(20, 11) {
		t.Fatalf("channel 9 with channel_max 2: got %s", f)
	}
}

// frame_max as RabbitMQ enforces it: a payload may reach frame_max (8 bytes
// of slack for clients that forget the header), one byte more is a 501
// with RabbitMQ's text.
func TestFrameMaxTextAndSlack(t *testing.T) {
	r := dialRaw(t)
	r.handshake(handshakeOpts{frameMax: 4096})
	r.openChannel(1)
	r.send(3, 1, make([]byte, 4096)) // accepted, then refused as a body without a header
	text, _, _ := r.expectConnectionClose(505)
	if want := "UNEXPECTED_FRAME - expected method frame, got non method frame instead"; text != want {
		t.Fatalf("payload of frame_max bytes: close %q, want %q", text, want)
	}
	r = dialRaw(t)
	r.handshake(handshakeOpts{frameMax: 4096})
	r.openChannel(1)
	r.send(3, 1, make([]byte, 4097))
	f := r.next()
	if !f.isMethod(10, 50) {
		t.Fatalf("payload of frame_max+1 bytes: got %s, want connection.close", f)
	}
	code, text, _, _ := parseClose(f.payload[4:])
	if want := "FRAME_ERROR - type 3, all octets = <<>>: {frame_too_large,4097,4088}"; code != 501 || text != want {
		t.Fatalf("payload of frame_max+1 bytes: close %d %q, want 501 %q", code, text, want)
	}
}

// startLimited serves a private broker with cfg (Addr is filled in).
func startLimited(t *testing.T, cfg netio.Config) string {
	t.Helper()
	_, u := startServer(t, cfg)
	return u
}

// startServer serves a private broker with cfg (Addr is filled in) and
// returns the server and its URL.
func startServer(t *testing.T, cfg netio.Config) (*netio.Server, string) {
	t.Helper()
	needLocal(t)
	b, err := broker.Open(broker.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = "127.0.0.1:0"
	srv := netio.NewServer(cfg, b)
	errc := make(chan error, 1)
	go func() { errc <- srv.Run() }()
	select {
	case <-srv.Ready():
	case err := <-errc:
		t.Fatalf("server.Run: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
		<-errc
		_ = b.Close()
	})
	addr, err := srv.Addr()
	if err != nil {
		t.Fatal(err)
	}
	return srv, "amqp://guest:guest@" + addr.String() + "/"
}

// connection_max: the connection past it gets a 530 at connection.open
// with a reason, the others carry on, and a freed place can be taken.
func TestConnectionMaxRefuses(t *testing.T) {
	u := startLimited(t, netio.Config{ConnectionMax: 2})
	c1, err := dialURL(t, u, amqp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := dialURL(t, u, amqp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = dialURL(t, u, amqp.Config{})
	wantCode(t, err, amqp.NotAllowed, "third connection with connection_max 2")
	if want := "NOT_ALLOWED - connection refused: node connection limit (2) is reached"; !strings.Contains(err.Error(), want) {
		t.Fatalf("refusal %v, want %q", err, want)
	}
	connUsable(t, c2)
	if err := c1.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool {
		c, err := dialURL(t, u, amqp.Config{})
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	}, "a connection after one of two closed")
}

// Past connection_max and its slack, a flood of sockets is closed at
// accept, before any Conn exists for it.
func TestConnectionMaxFloodClosedAtAccept(t *testing.T) {
	u := startLimited(t, netio.Config{ConnectionMax: 1})
	addr := strings.TrimSuffix(strings.TrimPrefix(u, "amqp://guest:guest@"), "/")
	for range 1 + 64 {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = nc.Close() })
	}
	eventually(t, func() bool {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		defer nc.Close()
		_ = nc.SetReadDeadline(time.Now().Add(time.Second))
		_, err = nc.Read(make([]byte, 1)) // EOF at once; a served socket waits for the header
		return errors.Is(err, io.EOF)
	}, "a socket past connection_max + slack closed at accept")
}
