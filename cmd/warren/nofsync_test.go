package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// With warren.fsync = false (-fsync=false) a persistent publish is confirmed
// once it is written to the kernel: no fdatasync is made, and every
// confirmed message is still there, in order, after a kill -9 (the page
// cache outlives the process).
func TestNoFsyncConfirmsSurviveKill(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpPort := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir() + "/data"
	p := startWarren(t, dir, procOptions{args: []string{"-fsync=false", "-http-port", fmt.Sprint(httpPort)}})
	if !strings.Contains(p.log(), "warren.fsync = false") {
		t.Fatalf("no warning at start that confirms do not wait for the disk:\n%s", tail(p.log(), 20))
	}
	ch, err := mustDial(t, p.url).Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	const q, n = "nofsync", 2000
	if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	var last *amqp.DeferredConfirmation
	for i := range n {
		last, err = ch.PublishWithDeferredConfirm("", q, false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: fmt.Appendf(nil, "m%d", i)})
		if err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := last.WaitContext(t.Context()); err != nil || !ok {
		t.Fatalf("publishes not confirmed: ok=%v err=%v", ok, err)
	}
	if got := scrapeSeries(t, httpPort, "warren_fsync_duration_seconds_count"); got != "0" {
		t.Fatalf("warren_fsync_duration_seconds_count = %q with -fsync=false, want 0", got)
	}
	if _, exited := p.signal(syscall.SIGKILL, 30e9); !exited {
		t.Fatal("warren still running 30 s after SIGKILL")
	}
	ch2, err := mustDial(t, startWarren(t, dir, procOptions{}).url).Channel()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		d, ok, err := ch2.Get(q, true)
		if err != nil || !ok {
			t.Fatalf("message %d of %d confirmed ones missing after kill -9: ok=%v err=%v", i, n, ok, err)
		}
		if want := fmt.Sprintf("m%d", i); string(d.Body) != want {
			t.Fatalf("message %d is %q, want %q", i, d.Body, want)
		}
	}
}

// scrapeSeries reads one unlabelled series from the management port's
// /metrics.
func scrapeSeries(t *testing.T, port int, name string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", fmt.Sprintf("http://127.0.0.1:%d/metrics", port), nil)
	req.SetBasicAuth("guest", "guest")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return v
		}
	}
	t.Fatalf("no %s on /metrics (HTTP %d)", name, resp.StatusCode)
	return ""
}
