//go:build linux

package main

// Integration tests of RabbitMQ's stream protocol with the stream client
// people use, github.com/rabbitmq/rabbitmq-stream-go-client, against a
// real warren process on a free port.

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/amqp"
	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/message"
	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/stream"
)

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type streamWarren struct {
	*warrenProc
	streamPort int
}

// startStreamWarren starts warren with its stream listener on a free port.
func startStreamWarren(t testing.TB, dataDir string, args ...string) *streamWarren {
	t.Helper()
	for attempt := 0; ; attempt++ {
		port := freePort(t)
		p := startWarren(t, dataDir, procOptions{args: append([]string{"-stream-port", strconv.Itoa(port)}, args...)})
		if spWait(10*time.Second, func() bool { return streamUp(port) }) {
			return &streamWarren{warrenProc: p, streamPort: port}
		}
		p.kill()
		if attempt == 2 {
			t.Fatalf("stream listener not up; log:\n%s", tail(p.log(), 3000))
		}
	}
}

func streamUp(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func spWait(d time.Duration, ok func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if ok() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ok()
}

func (w *streamWarren) env(t testing.TB) *stream.Environment {
	t.Helper()
	env, err := stream.NewEnvironment(stream.NewEnvironmentOptions().
		SetHost("127.0.0.1").SetPort(w.streamPort).SetUser("guest").SetPassword("guest"))
	if err != nil {
		t.Fatalf("stream environment: %v; log:\n%s", err, tail(w.log(), 3000))
	}
	t.Cleanup(func() { _ = env.Close() })
	return env
}

// publishConfirmed sends bodies through producer and waits for every
// confirm.
func publishConfirmed(t testing.TB, p *stream.Producer, msgs []message.StreamMessage) {
	t.Helper()
	ch := p.NotifyPublishConfirmation()
	var ok, bad atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for cs := range ch {
			for _, c := range cs {
				if c.IsConfirmed() {
					ok.Add(1)
				} else {
					bad.Add(1)
				}
			}
			if ok.Load()+bad.Load() >= int64(len(msgs)) {
				return
			}
		}
	}()
	for _, m := range msgs {
		if err := p.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("confirms: %d ok, %d failed of %d", ok.Load(), bad.Load(), len(msgs))
	}
	if bad.Load() != 0 {
		t.Fatalf("%d messages not confirmed", bad.Load())
	}
}

func bodies(prefix string, n int) []message.StreamMessage {
	out := make([]message.StreamMessage, n)
	for i := range out {
		out[i] = amqp.NewMessage([]byte(fmt.Sprintf("%s-%d", prefix, i)))
	}
	return out
}

type got struct {
	mu   sync.Mutex
	offs []int64
	body []string
}

func (g *got) handler(ctx stream.ConsumerContext, m *amqp.Message) {
	g.mu.Lock()
	g.offs = append(g.offs, ctx.Consumer.GetOffset())
	g.body = append(g.body, string(m.GetData()))
	g.mu.Unlock()
}

func (g *got) n() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.body)
}

func (g *got) wait(t testing.TB, n int) {
	t.Helper()
	if !spWait(60*time.Second, func() bool { return g.n() >= n }) {
		t.Fatalf("consumed %d of %d", g.n(), n)
	}
}

func TestStreamProtoPublishConsume(t *testing.T) {
	w := startStreamWarren(t, t.TempDir()+"/data", "-log-level", "debug")
	env := w.env(t)
	const name = "s-basic"
	if err := env.DeclareStream(name, nil); err != nil {
		t.Fatal(err)
	}
	// The client hides StreamAlreadyExists (code 5) from a redeclare.
	if err := env.DeclareStream(name, nil); err != nil {
		t.Fatalf("second declare: %v", err)
	}
	p, err := env.NewProducer(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	publishConfirmed(t, p, bodies("m", 1000))
	var g got
	c, err := env.NewConsumer(name, g.handler, stream.NewConsumerOptions().SetOffset(stream.OffsetSpecification{}.First()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	g.wait(t, 1000)
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := range 1000 {
		if g.body[i] != fmt.Sprintf("m-%d", i) || g.offs[i] != int64(i) {
			t.Fatalf("message %d: %q at offset %d", i, g.body[i], g.offs[i])
		}
	}
	stats, err := env.StreamStats(name)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := stats.FirstOffset(); err != nil || f != 0 {
		t.Fatalf("first offset %d %v", f, err)
	}
	if err := env.DeleteStream(name); err != nil {
		t.Fatal(err)
	}
	if ok, err := env.StreamExists(name); err != nil || ok {
		t.Fatalf("exists after delete: %v %v", ok, err)
	}
}
