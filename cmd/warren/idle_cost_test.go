//go:build linux

package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Issue 19's bounds on what idle things cost the broker process, in RSS:
// a connection with one channel, and a durable queue.
const (
	idleConnRSS  = 20 << 10
	idleQueueRSS = 2 << 10
	idleCount    = 10_000
)

// vmRSS is the process's resident set in bytes (heap, stacks and the file
// pages of mapped segments).
func vmRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// settledRSS waits for the broker to go quiet (its idle-output release and
// memory return run after 2-3 s) and reads its RSS.
func settledRSS(t *testing.T, pid int) (rss, anon int64) {
	time.Sleep(4 * time.Second)
	return vmRSS(t, pid), rssAnon(t, pid)
}

// rawFrame appends one AMQP method frame.
func rawFrame(b []byte, ch uint16, class, method uint16, args []byte) []byte {
	b = append(b, 1, byte(ch>>8), byte(ch))
	b = binary.BigEndian.AppendUint32(b, uint32(4+len(args)))
	b = binary.BigEndian.AppendUint16(b, class)
	b = binary.BigEndian.AppendUint16(b, method)
	return append(append(b, args...), 0xce)
}

func shortstr(b []byte, s string) []byte { return append(append(b, byte(len(s))), s...) }

// readMethod reads frames until a method frame and returns its class and method.
func readMethod(r *bufio.Reader) (uint16, uint16, error) {
	var h [7]byte
	for {
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return 0, 0, err
		}
		n := binary.BigEndian.Uint32(h[3:])
		p := make([]byte, n+1)
		if _, err := io.ReadFull(r, p); err != nil {
			return 0, 0, err
		}
		if h[0] == 1 && n >= 4 {
			return binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:]), nil
		}
	}
}

// openIdle opens an AMQP connection with one channel over a raw socket
// (heartbeats off, a 64-byte read buffer: the client side costs little)
// and leaves it idle.
func openIdle(addr string) (net.Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return nil, err
	}
	_ = nc.SetDeadline(time.Now().Add(60 * time.Second))
	r := bufio.NewReaderSize(nc, 64)
	step := func(out []byte, class, method uint16) error {
		if len(out) > 0 {
			if _, err := nc.Write(out); err != nil {
				return err
			}
		}
		c, m, err := readMethod(r)
		if err == nil && (c != class || m != method) {
			err = fmt.Errorf("got method %d.%d, want %d.%d", c, m, class, method)
		}
		return err
	}
	var a []byte
	a = binary.BigEndian.AppendUint32(a, 0) // client-properties
	a = shortstr(a, "PLAIN")
	a = binary.BigEndian.AppendUint32(a, 12)
	a = append(a, "\x00guest\x00guest"...)
	a = shortstr(a, "en_US")
	startOk := rawFrame(nil, 0, 10, 11, a)
	tuneOk := rawFrame(nil, 0, 10, 31, []byte{0, 1, 0, 2, 0, 0, 0, 0}) // channel-max 1, frame-max 131072, heartbeat 0
	open := rawFrame(tuneOk, 0, 10, 40, []byte{1, '/', 0, 0})
	err = step([]byte("AMQP\x00\x00\x09\x01"), 10, 10)
	if err == nil {
		err = step(startOk, 10, 30)
	}
	if err == nil {
		err = step(open, 10, 41)
	}
	if err == nil {
		err = step(rawFrame(nil, 1, 20, 10, []byte{0}), 20, 11)
	}
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return nc, nil
}

// 10,000 idle connections with a channel each, then 10,000 idle durable
// queues, cost the broker process at most idleConnRSS and idleQueueRSS
// apiece in RSS, read from /proc after it settles.
func TestIdleConnectionsAndQueuesRSS(t *testing.T) {
	if testing.Short() || raceBuild() {
		t.Skip("10,000 connections and queues; RSS is meaningless under the race detector")
	}
	if n, err := raiseFDLimit(); err != nil || n < idleCount+100 {
		t.Skipf("fd limit %d (%v): need %d sockets", n, err, idleCount+100)
	}
	p := startWarren(t, filepath.Join(t.TempDir(), "data"), procOptions{})
	pid := p.cmd.Process.Pid
	base, baseAnon := settledRSS(t, pid)

	conns := make([]net.Conn, idleCount)
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
	})
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < idleCount; i += 8 {
				c, err := openIdle(p.addr)
				if err != nil {
					errs <- fmt.Errorf("connection %d: %w", i, err)
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	opened := time.Since(start)
	withConns, withConnsAnon := settledRSS(t, pid)
	perConn := (withConns - base) / idleCount
	t.Logf("%d idle connections opened in %v: RSS %.1f -> %.1f MiB (anon %.1f -> %.1f), %d bytes each",
		idleCount, opened.Round(time.Millisecond), mib(base), mib(withConns), mib(baseAnon), mib(withConnsAnon), perConn)

	c := mustDial(t, p.url)
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	for i := range idleCount {
		if _, err := ch.QueueDeclare(fmt.Sprintf("idle-%05d", i), true, false, false, false, nil); err != nil {
			t.Fatalf("declare %d: %v", i, err)
		}
	}
	declared := time.Since(start)
	withQueues, withQueuesAnon := settledRSS(t, pid)
	perQueue := (withQueues - withConns) / idleCount
	t.Logf("%d idle durable queues declared in %v: RSS %.1f -> %.1f MiB (anon %.1f -> %.1f), %d bytes each",
		idleCount, declared.Round(time.Millisecond), mib(withConns), mib(withQueues), mib(withConnsAnon), mib(withQueuesAnon), perQueue)

	if perConn > idleConnRSS {
		t.Errorf("an idle connection with a channel costs %d bytes of RSS, over %d", perConn, idleConnRSS)
	}
	if perQueue > idleQueueRSS {
		t.Errorf("an idle durable queue costs %d bytes of RSS, over %d", perQueue, idleQueueRSS)
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
