package netio

import (
	"testing"
	"time"

	"github.com/warrenmq/warren/frame"
)

// TestHandshakeTimeoutConfig: a peer that has not reached connection.open
// HandshakeTimeout after connecting is dropped by the ticker, wherever it
// stopped; one that opened is not. The ticker is driven by hand, so the
// timeout is exercised without waiting for it.
func TestHandshakeTimeoutConfig(t *testing.T) {
	b := fuzzServer(t).b
	if got := NewServer(Config{}, b).cfg.HandshakeTimeout; got != 10*time.Second {
		t.Fatalf("default HandshakeTimeout %v, want RabbitMQ's 10 s", got)
	}
	const timeout = 250 * time.Millisecond
	srv := NewServer(Config{HandshakeTimeout: timeout}, b)
	hs := handshake()
	startOk := frame.AppendMethodFrame(append([]byte(nil), frame.ProtocolHeader[:]...), 0, &frame.ConnectionStartOk{
		ClientProperties: frame.Table{"product": "test"}, Mechanism: "PLAIN", Response: "\x00guest\x00guest", Locale: "en_US",
	})
	for _, tc := range []struct {
		name    string
		in      []byte
		dropped bool
	}{
		{"nothing sent", nil, true},
		{"half a protocol header", []byte("AMQ"), true},
		{"protocol header", frame.ProtocolHeader[:], true},
		{"start-ok", startOk, true},
		{"opened", hs, false},
	} {
		tr := &fakeTransport{}
		c := newConn(srv, tr)
		born := time.Now()
		if len(tc.in) > 0 {
			c.Feed(tc.in)
			c.ReturnOutput(c.TakeOutput(), 0)
		}
		c.tick(born.Add(timeout / 2))
		if tr.closed {
			t.Fatalf("%s: dropped before the timeout", tc.name)
		}
		c.tick(born.Add(timeout + 200*time.Millisecond))
		if tr.closed != tc.dropped {
			t.Errorf("%s: dropped %v after the timeout, want %v", tc.name, tr.closed, tc.dropped)
		}
		c.Closed()
	}
}
