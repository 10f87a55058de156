package netio_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// linesWith returns the log lines that mention s.
func (w *lockedBuf) linesWith(s string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, l := range strings.Split(w.b.String(), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// Each connection's accept, login and close are logged at info, one line
// each, with the peer, user and vhost, as RabbitMQ logs "accepting AMQP
// connection", "user 'guest' authenticated and granted access to vhost '/'"
// and "closing AMQP connection"; a socket lost without connection.close is
// a warning with RabbitMQ's reason. Not parallel: it swaps slog's default.
func TestConnectionLifecycleLogged(t *testing.T) {
	needLocal(t)
	var buf lockedBuf
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	t.Cleanup(func() { slog.SetDefault(old) })

	c, err := dialConfig(t, amqp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	peer := "peer=" + c.LocalAddr().String()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool { return len(buf.linesWith(peer)) >= 3 }, "three log lines for %s", peer)
	lines := buf.linesWith(peer)
	want := []string{
		`level=INFO msg="accepting AMQP connection"`,
		`level=INFO msg="user authenticated and granted access to vhost"`,
		`level=INFO msg="closing AMQP connection"`,
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Fatalf("line %d %q, want %s", i, lines[i], w)
		}
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, "user=guest") || !strings.Contains(l, "vhost=/") {
			t.Errorf("line %q lacks user=guest vhost=/", l)
		}
	}

	// A client that drops the socket without connection.close.
	r := dialRaw(t)
	r.open()
	peer = "peer=" + r.nc.LocalAddr().String()
	eventually(t, func() bool { return len(buf.linesWith(peer)) >= 2 }, "the login of %s logged", peer)
	_ = r.nc.Close()
	eventually(t, func() bool { return len(buf.linesWith(peer)) >= 3 }, "the close of %s logged", peer)
	if l := buf.linesWith(peer)[2]; !strings.Contains(l, `level=WARN msg="closing AMQP connection"`) ||
		!strings.Contains(l, `reason="client unexpectedly closed TCP connection"`) {
		t.Fatalf("close line %q, want a warning with RabbitMQ's reason", l)
	}
}

// A peer that stops sending is dropped after two heartbeat intervals; the
// close line says so, in RabbitMQ's words, instead of blaming the client's
// TCP close. Not parallel: it swaps slog's default.
func TestHeartbeatTimeoutLogged(t *testing.T) {
	needLocal(t)
	var buf lockedBuf
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	t.Cleanup(func() { slog.SetDefault(old) })

	r := dialRaw(t)
	r.handshake(handshakeOpts{heartbeat: 1})
	peer := "peer=" + r.nc.LocalAddr().String()
	r.expectEOF() // silent for 2 s: the broker closes
	eventually(t, func() bool { return len(buf.linesWith(peer+" vhost")) >= 1 }, "the close of %s logged", peer)
	if l := buf.linesWith(peer + " vhost")[0]; !strings.Contains(l, `level=WARN msg="closing AMQP connection"`) ||
		!strings.Contains(l, `reason="missed heartbeats from client, timeout: 2s"`) {
		t.Fatalf("close line %q, want a warning naming the missed heartbeats", l)
	}
}
