package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// At the fd limit warren must refuse the connections that do not fit and
// keep serving; it used to lose its listener inside gnet, log "stopped" and
// exit 0, so a supervisor with Restart=on-failure left it down. Once fds are
// free, new connections must be accepted again.
func TestFDLimitRefusesAndRecovers(t *testing.T) {
	const limit = 64
	p := startWarren(t, t.TempDir()+"/data", procOptions{nofile: limit})
	if !strings.Contains(p.log(), "fd_limit=64") {
		t.Errorf("start line does not report fd_limit=64:\n%s", tail(p.log(), 2000))
	}

	// More connections than the limit can hold; stop after a few refusals.
	var conns []*amqp.Connection
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	refused := 0
	for i := 0; i < 2*limit && refused < 5; i++ {
		c, err := dialAMQP(p.url, 0)
		if err != nil {
			refused++
			continue
		}
		conns = append(conns, c)
	}
	t.Logf("%d connections accepted, %d refused", len(conns), refused)
	if refused == 0 {
		t.Fatalf("all %d connections were accepted under a limit of %d fds", len(conns), limit)
	}
	if len(conns) == 0 {
		t.Fatal("no connection was accepted at all")
	}
	if p.exited() {
		t.Fatalf("warren exited at the fd limit (%v); log:\n%s", p.waitErr, tail(p.log(), 4000))
	}
	if !strings.Contains(p.log(), "out of file descriptors") {
		t.Errorf("no fd-shortage line in the log:\n%s", tail(p.log(), 4000))
	}
	// The connections that were accepted still work.
	if ch, err := conns[0].Channel(); err != nil {
		t.Errorf("channel on a connection opened before the limit: %v", err)
	} else {
		_ = ch.Close()
	}

	for _, c := range conns {
		_ = c.Close()
	}
	conns = nil

	// Closed connections free their fds as warren processes the closes;
	// poll until a new connection gets through.
	var c *amqp.Connection
	deadline := time.Now().Add(20 * time.Second)
	for {
		var err error
		if c, err = dialAMQP(p.url, 0); err == nil {
			break
		}
		if p.exited() {
			t.Fatalf("warren exited (%v); log:\n%s", p.waitErr, tail(p.log(), 4000))
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection accepted 20 s after freeing fds: %v; log:\n%s", err, tail(p.log(), 4000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	conns = append(conns, c)
	roundTrip(t, c)

	for _, c := range conns {
		_ = c.Close()
	}
	conns = nil
	if code, exited := p.signal(syscall.SIGTERM, 30*time.Second); !exited || code != 0 {
		t.Fatalf("SIGTERM: exited=%v code=%d; log:\n%s", exited, code, tail(p.log(), 4000))
	}
}

// roundTrip publishes one message to a fresh queue and gets it back.
func roundTrip(t *testing.T, c *amqp.Connection) {
	t.Helper()
	ch, err := c.Channel()
	if err != nil {
		t.Fatalf("channel: %v", err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatalf("declare: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ch.PublishWithContext(ctx, "", q.Name, false, false, amqp.Publishing{Body: []byte("after the limit")}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, ok, err := ch.Get(q.Name, true)
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		if ok {
			if string(m.Body) != "after the limit" {
				t.Fatalf("got %q", m.Body)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("message not back within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A listener that stops by itself, even without an error, is a failure:
// warren must exit non-zero so that Restart=on-failure brings it back.
func TestListenerStopIsAFailure(t *testing.T) {
	runErr := make(chan error, 1)
	runErr <- nil
	if err := waitForShutdown(make(chan os.Signal), runErr, nil, nil); err == nil {
		t.Fatal("waitForShutdown returned nil after the listener stopped by itself")
	}
}

// The soft fd limit is raised to the hard one at start (a unit without
// LimitNOFILE= inherits a soft 1,024), and the start line says so.
func TestFDLimitRaisedAtStart(t *testing.T) {
	p := startWarren(t, t.TempDir()+"/data", procOptions{nofile: 2048, nofileSoft: 256})
	if !strings.Contains(p.log(), "fd_limit=2048") {
		t.Errorf("start line does not report fd_limit=2048 (hard 2048, soft 256):\n%s", tail(p.log(), 2000))
	}
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(limits), "\n") {
		if f := strings.Fields(strings.TrimPrefix(line, "Max open files")); strings.HasPrefix(line, "Max open files") {
			if len(f) < 2 || f[0] != "2048" || f[1] != "2048" {
				t.Errorf("process limits %q, want soft and hard 2048", line)
			}
			return
		}
	}
	t.Errorf("no open files line in\n%s", limits)
}
