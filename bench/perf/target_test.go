package perf

import (
	"net"
	"strings"
	"testing"

	"github.com/warrenmq/warren/bench/sink"
)

// The target is named from the server's own connection.start, so running
// against the wrong broker is visible before any number is measured.
func TestDescribeTargetNamesTheServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var s sink.Server
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	defer func() { ln.Close(); <-done }()
	uri := "amqp://guest:secret@" + ln.Addr().String() + "/"
	got, err := DescribeTarget(uri)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "warren-perf sink") || !strings.Contains(got, ln.Addr().String()) {
		t.Fatalf("got %q, want the sink's product and address", got)
	}
	if strings.Contains(got, "secret") {
		t.Fatalf("the password is printed: %q", got)
	}
}

func TestDescribeTargetUnreachable(t *testing.T) {
	// A port held by our own connected socket: nothing listens there, and
	// no other process can start listening there while we hold it (a port
	// freed by closing a listener could be taken meanwhile).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	held, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	addr := held.LocalAddr().String()
	if _, err := DescribeTarget("amqp://guest:secret@" + addr + "/"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("err %v, want a connect error without the password", err)
	}
}
