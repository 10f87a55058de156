//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"golang.org/x/sys/unix"
)

// lowestFreeFD is the number the next open in process pid would get.
func lowestFreeFD(t *testing.T, pid int) uint64 {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Skipf("cannot list warren's fds: %v", err)
	}
	used := make(map[uint64]bool, len(ents))
	for _, e := range ents {
		if n, err := strconv.ParseUint(e.Name(), 10, 64); err == nil {
			used[n] = true
		}
	}
	var n uint64
	for used[n] {
		n++
	}
	return n
}

// A read the kernel refuses for now (here no file descriptor left to open
// a segment: EMFILE; in production as often vm.max_map_count) leaves the
// messages ready: basic.get answers 541 INTERNAL_ERROR, not get-empty as
// if the queue had nothing, and a consumer at its prefetch limit gets its
// credit back and everything, in order, once the kernel lets the read
// through. Before, basic.get said get-empty, and the consumer's credit
// was spent on the failed read, so it waited for an ack that could not
// come and got nothing after the limit was lifted.
func TestReadFailureKeepsMessagesReady(t *testing.T) {
	const n = 200
	dir := t.TempDir() + "/data"
	httpPort := freePort(t)
	args := procOptions{args: []string{"-segment-size", "65536", "-http-port", strconv.Itoa(httpPort)}}
	p := startWarren(t, dir, args)
	body := func(i int) string { return fmt.Sprintf("%04d;%s", i, strings.Repeat("r", 1000)) }
	func() {
		c := mustDial(t, p.url)
		defer c.Close()
		ch, err := c.Channel()
		if err != nil {
			t.Fatal(err)
		}
		if err := ch.Confirm(false); err != nil {
			t.Fatal(err)
		}
		if _, err := ch.QueueDeclare("readfail", true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
		var last *amqp.DeferredConfirmation
		for i := range n {
			last, err = ch.PublishWithDeferredConfirm("", "readfail", false, false,
				amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte(body(i))})
			if err != nil {
				t.Fatal(err)
			}
		}
		if !last.Wait() {
			t.Fatal("publish not confirmed")
		}
	}()
	// After a restart no segment of the backlog is open yet.
	if _, ok := p.signal(syscall.SIGTERM, 30*time.Second); !ok {
		t.Fatal("warren did not stop on SIGTERM")
	}
	p = startWarren(t, dir, args)
	defer p.checkLog(t, "read failures")
	pid := p.cmd.Process.Pid

	getConn := mustDial(t, p.url)
	defer getConn.Close()
	getCh, err := getConn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	consConn := mustDial(t, p.url)
	defer consConn.Close()
	consCh, err := consConn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := consCh.Qos(1, 0, false); err != nil {
		t.Fatal(err)
	}

	// The management API's connection is made now, and kept alive, so
	// that it needs no new fd under the limit.
	api := &http.Client{Timeout: 20 * time.Second}
	apiURL := fmt.Sprintf("http://127.0.0.1:%d/api/queues/%%2F/readfail", httpPort)
	mgmtGet := func() (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, apiURL+"/get",
			strings.NewReader(`{"count":5,"ackmode":"ack_requeue_true","encoding":"auto"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth("guest", "guest")
		resp, err := api.Do(req)
		if err != nil {
			t.Fatalf("management get: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	func() {
		req, _ := http.NewRequest(http.MethodGet, apiURL, nil)
		req.SetBasicAuth("guest", "guest")
		resp, err := api.Do(req)
		if err != nil {
			t.Fatalf("management API: %v", err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", apiURL, resp.Status)
		}
	}()

	var orig unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, nil, &orig); err != nil {
		t.Skipf("cannot read warren's fd limit: %v", err)
	}
	limited := orig
	limited.Cur = lowestFreeFD(t, pid)
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &limited, nil); err != nil {
		t.Skipf("cannot lower warren's fd limit: %v", err)
	}
	restore := func() {
		if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &orig, nil); err != nil {
			t.Fatalf("restoring warren's fd limit: %v", err)
		}
	}
	defer func() { _ = unix.Prlimit(pid, unix.RLIMIT_NOFILE, &orig, nil) }()

	// basic.get takes what is readable (an open segment's records, if
	// any), then must fail with 541 while the rest is ready.
	got := 0
	for {
		d, ok, err := getCh.Get("readfail", true)
		if err != nil {
			var ae *amqp.Error
			if !errors.As(err, &ae) || ae.Code != amqp.InternalError {
				t.Fatalf("basic.get after %d: %v, want 541 INTERNAL_ERROR", got, err)
			}
			break
		}
		if !ok {
			t.Fatalf("basic.get said get-empty after %d of %d messages while the queue held the rest", got, n)
		}
		if want := body(got); string(d.Body) != want {
			t.Fatalf("basic.get %d: %.8q, want %.8q", got, d.Body, want)
		}
		got++
		if got == n {
			t.Fatal("every message was read under the fd limit: the read never failed")
		}
	}
	t.Logf("basic.get read %d before the read failed", got)
	// 541 is a connection exception: closing that connection frees an fd,
	// which is taken away too.
	for deadline := time.Now().Add(10 * time.Second); lowestFreeFD(t, pid) >= limited.Cur; {
		if time.Now().After(deadline) {
			t.Fatal("the connection basic.get's 541 closed kept its fd")
		}
		time.Sleep(10 * time.Millisecond)
	}
	limited.Cur = lowestFreeFD(t, pid)
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &limited, nil); err != nil {
		t.Fatalf("lowering warren's fd limit again: %v", err)
	}

	deliveries, err := consCh.Consume("readfail", "", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-deliveries:
		t.Fatalf("delivered %.8q while no segment could be opened", d.Body)
	case <-time.After(time.Second):
	}
	if !strings.Contains(p.log(), "cannot read message") {
		t.Errorf("warren's log does not report the failed read:\n%s", tail(p.log(), 4000))
	}

	// The management API's get says so too, instead of an empty list.
	if code, b := mgmtGet(); code != http.StatusInternalServerError || !strings.Contains(b, "cannot read a message of queue 'readfail'") {
		t.Errorf("management get under the fd limit: %d %.300s, want 500 saying the read failed", code, b)
	}

	restore()
	for i := got; i < n; i++ {
		select {
		case d := <-deliveries:
			if want := body(i); string(d.Body) != want {
				t.Fatalf("delivery after the limit lifted: %.8q, want %.8q", d.Body, want)
			}
			if err := d.Ack(false); err != nil {
				t.Fatal(err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("message %d of %d not delivered 20 s after the fd limit was lifted", i, n)
		}
	}
	if p.exited() {
		t.Fatalf("warren exited: %v", p.waitErr)
	}
}
