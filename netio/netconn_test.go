package netio_test

import (
	"net"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// serveNet accepts connections on a loopback net.Listener of the test's
// own and hands each to ServeConn, the path a crypto/tls listener takes:
// the same Conn.Serve as gnet's loops, over a plain net.Conn. It returns
// the URL to dial and a channel that gets a value as each ServeConn returns.
func serveNet(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	ended := make(chan struct{}, 16)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				shared.srv.ServeConn(nc)
				ended <- struct{}{}
			}()
		}
	}()
	return "amqp://guest:guest@" + ln.Addr().String() + "/", ended
}

// amqp091-go works unchanged over a net.Conn driven through ServeConn:
// publish, consume, ack, and a clean close that ends ServeConn.
func TestServeConnRoundTrip(t *testing.T) {
	needLocal(t)
	u, ended := serveNet(t)
	c, err := dialURL(t, u, amqp.Config{})
	if err != nil {
		t.Fatalf("dial over net.Conn: %v", err)
	}
	ch := channel(t, c)
	q := declareQueue(t, ch, "q")
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 100))
	ds := consume(t, ch, q, "", false)
	const n = 50
	for i := 0; i < n; i++ {
		publishText(t, ch, "", q, "m"+itoa(i))
	}
	for i := 0; i < n; i++ {
		select {
		case cf := <-confirms:
			if !cf.Ack {
				t.Fatalf("publish %d nacked", cf.DeliveryTag)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("confirm %d did not come", i+1)
		}
	}
	for i := 0; i < n; i++ {
		d := recv(t, ds)
		if got, want := string(d.Body), "m"+itoa(i); got != want {
			t.Fatalf("delivery %d is %q, want %q", i, got, want)
		}
		if err := d.Ack(false); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	select {
	case <-ended:
	case <-time.After(waitTimeout):
		t.Fatal("ServeConn did not return after the client closed")
	}
}

// Server-side closes go through the same path: closing the connection from
// the registry sends 320 over the net.Conn, and ServeConn returns.
func TestServeConnForcedClose(t *testing.T) {
	needLocal(t)
	u, ended := serveNet(t)
	cn := name(t, "conn")
	c, err := dialURL(t, u, amqp.Config{Properties: amqp.Table{"connection_name": cn}})
	if err != nil {
		t.Fatal(err)
	}
	closes := c.NotifyClose(make(chan *amqp.Error, 1))
	e := registered(t, shared.b.Registry(), cn)
	e.Close("net.Conn test")
	got := waitClosed(t, closes, 320, "forced close over net.Conn")
	if want := "CONNECTION_FORCED - net.Conn test"; got.Reason != want {
		t.Errorf("reason %q, want %q", got.Reason, want)
	}
	select {
	case <-ended:
	case <-time.After(waitTimeout):
		t.Fatal("ServeConn did not return after the forced close")
	}
}

// A peer that sends a wrong protocol header gets ours back and the socket
// closed, as over gnet.
func TestServeConnRefusesProtocol(t *testing.T) {
	needLocal(t)
	u, ended := serveNet(t)
	addr := u[len("amqp://guest:guest@") : len(u)-1]
	nc, err := net.DialTimeout("tcp", addr, waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(waitTimeout))
	if _, err := nc.Write([]byte("HTTP/1.1")); err != nil {
		t.Fatal(err)
	}
	var b [16]byte
	n, _ := nc.Read(b[:])
	if got := string(b[:n]); got != "AMQP\x00\x00\x09\x01" {
		t.Fatalf("got %q, want the protocol header", got)
	}
	select {
	case <-ended:
	case <-time.After(waitTimeout):
		t.Fatal("ServeConn did not return after refusing the protocol")
	}
}
