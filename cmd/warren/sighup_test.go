package main

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIGHUP (a supervisor's or logrotate's "reload") must leave the broker
// running and serving; it used to kill it at once, without a shutdown.
func TestSIGHUPKeepsRunning(t *testing.T) {
	p := startWarren(t, t.TempDir()+"/data", procOptions{})
	const line = "SIGHUP: nothing to reload"
	if code, exited := p.signal(syscall.SIGHUP, 0); exited {
		t.Fatalf("warren exited (code %d) on SIGHUP", code)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.log(), line) {
		if p.exited() {
			t.Fatalf("warren exited after SIGHUP (%v); log:\n%s", p.waitErr, tail(p.log(), 4000))
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q line 30 s after SIGHUP; log:\n%s", line, tail(p.log(), 4000))
		}
		time.Sleep(10 * time.Millisecond)
	}
	c, err := dialAMQP(p.url, 0)
	if err != nil {
		t.Fatalf("dial after SIGHUP: %v", err)
	}
	ch, err := c.Channel()
	if err != nil {
		t.Fatalf("channel after SIGHUP: %v", err)
	}
	if _, err := ch.QueueDeclare("", false, true, true, false, nil); err != nil {
		t.Fatalf("declare after SIGHUP: %v", err)
	}
	_ = c.Close()
	if code, exited := p.signal(syscall.SIGTERM, 30*time.Second); !exited || code != 0 {
		t.Fatalf("SIGTERM after SIGHUP: exited=%v code=%d", exited, code)
	}
	p.checkLog(t, "after SIGHUP")
}
