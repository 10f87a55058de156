//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/amqp"
	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/message"
	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/stream"
	"golang.org/x/sys/unix"
)

// TestStreamFilterDisk measures what a filtered reader reads from disk
// (docs/BENCHMARKS.md, "Filtered reads from disk"). It runs only with
// WARREN_STREAM_FILTER_BENCH=1:
//
//	WARREN_STREAM_FILTER_BENCH=1 go test -run TestStreamFilterDisk -v -timeout 30m ./cmd/warren
//
// For 16 B and 1 KiB bodies, published over AMQP 0-9-1 (amqp091-go,
// confirms) and over the stream protocol (rabbitmq-stream-go-client with
// a producer filter): messages carry x-stream-filter-value, "rare" on runs
// of 100 in every 10,000 (1%), "common-0".."common-6" in turn otherwise.
// Then the page cache of Warren's files is dropped (fdatasync and
// POSIX_FADV_DONTNEED on each file of its data dir, nothing else) and a
// reader filtering on "rare" reads the stream from first, over 0-9-1 and
// then (cache dropped again) over the stream protocol; the broker's
// read_bytes (/proc/PID/io) over that read is its disk read.
func TestStreamFilterDisk(t *testing.T) {
	if os.Getenv("WARREN_STREAM_FILTER_BENCH") != "1" {
		t.Skip("WARREN_STREAM_FILTER_BENCH=1 runs the filtered-read disk benchmark")
	}
	dir := t.TempDir() + "/data"
	httpPort := freePort(t)
	w := startStreamWarren(t, dir, "-http-port", strconv.Itoa(httpPort))
	env := w.env(t)
	for _, size := range []int{16, 1024} {
		n := envInt("WARREN_STREAM_FILTER_N", 1_000_000)
		if size > 100 {
			n = max(10_000, n/4)
		}
		for _, path := range []string{"amqp091", "stream"} {
			name := fmt.Sprintf("filter-%s-%d", path, size)
			if err := env.DeclareStream(name, nil); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if path == "amqp091" {
				publishFiltered091(t, w.url, name, n, size)
			} else {
				publishFilteredStream(t, env, name, n, size)
			}
			pub := time.Since(start)
			bytes := streamBytes(t, httpPort, name)
			rare := rareCount(n)
			if rare == 0 {
				t.Fatalf("%d messages hold no rare run (WARREN_STREAM_FILTER_N below 5,001)", n)
			}
			dropCache(t, dir)
			before := readBytes(t, w.cmd.Process.Pid)
			start = time.Now()
			read091Filtered(t, w.url, name, rare)
			d091 := time.Since(start)
			disk091 := readBytes(t, w.cmd.Process.Pid) - before
			if os.Getenv("WARREN_STREAM_FILTER_FINCORE") != "" {
				out, _ := exec.Command("sh", "-c", "fincore "+dir+"/vhosts/*/queues/*/seg.*").CombinedOutput()
				t.Logf("%s", out)
			}
			dropCache(t, dir)
			before = readBytes(t, w.cmd.Process.Pid)
			start = time.Now()
			readStreamFiltered(t, env, name, rare)
			dsp := time.Since(start)
			diskSP := readBytes(t, w.cmd.Process.Pid) - before
			t.Logf("RESULT filter published-over=%s size=%d messages=%d publish=%.0f msg/s stream=%.1f MiB | 0-9-1 reader: %d rare in %v, disk %.2f MiB (%.2f%%) | stream-protocol reader: %d rare in %v, disk %.2f MiB (%.2f%%)",
				path, size, n, float64(n)/pub.Seconds(), float64(bytes)/(1<<20),
				rare, d091.Round(time.Millisecond), float64(disk091)/(1<<20), 100*float64(disk091)/float64(bytes),
				rare, dsp.Round(time.Millisecond), float64(diskSP)/(1<<20), 100*float64(diskSP)/float64(bytes))
		}
	}
}

// rareCount is how many of the first n messages filterValue marks rare:
// n/100 only for whole multiples of 10,000, none below 5,001.
func rareCount(n int) int {
	c := 0
	for i := range n {
		if filterValue(i) == "rare" {
			c++
		}
	}
	return c
}

func filterValue(i int) string {
	if i%10000 >= 5000 && i%10000 < 5100 {
		return "rare"
	}
	return "common-" + strconv.Itoa(i%7)
}

func publishFiltered091(t *testing.T, u, q string, n, size int) {
	t.Helper()
	conn, err := amqp091.Dial(u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, size)
	var window []*amqp091.DeferredConfirmation
	for i := range n {
		d, err := ch.PublishWithDeferredConfirm("", q, false, false, amqp091.Publishing{Body: body, DeliveryMode: 2,
			Headers: amqp091.Table{"x-stream-filter-value": filterValue(i)}})
		if err != nil {
			t.Fatal(err)
		}
		window = append(window, d)
		if len(window) >= 2000 {
			for _, d := range window[:1000] {
				if ok, err := d.WaitContext(t.Context()); !ok || err != nil {
					t.Fatalf("confirm: %v %v", ok, err)
				}
			}
			window = append(window[:0], window[1000:]...)
		}
	}
	for _, d := range window {
		if ok, err := d.WaitContext(t.Context()); !ok || err != nil {
			t.Fatalf("confirm: %v %v", ok, err)
		}
	}
}

func publishFilteredStream(t *testing.T, env *stream.Environment, name string, n, size int) {
	t.Helper()
	p, err := env.NewProducer(name, stream.NewProducerOptions().SetFilter(stream.NewProducerFilter(func(m message.StreamMessage) string {
		v, _ := m.GetApplicationProperties()["v"].(string)
		return v
	})))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	body := make([]byte, size)
	msgs := make([]message.StreamMessage, n)
	for i := range msgs {
		m := amqp.NewMessage(body)
		// x-stream-filter-value too, for the 0-9-1 reader's per-message
		// filter (the publish frame's value is the chunk's summary only).
		m.ApplicationProperties = map[string]any{"v": filterValue(i), "x-stream-filter-value": filterValue(i)}
		msgs[i] = m
	}
	publishConfirmed(t, p, msgs)
}

// streamBytes is the stream's segment bytes, from the management API.
func streamBytes(t *testing.T, port int, name string) int64 {
	t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/api/queues/%%2F/%s", port, url.PathEscape(name)), nil)
	req.SetBasicAuth("guest", "guest")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var q struct {
		Stream struct {
			Bytes int64 `json:"bytes"`
		} `json:"stream"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&q); err != nil || q.Stream.Bytes == 0 {
		t.Fatalf("stream bytes of %s: %v (%+v)", name, err, q)
	}
	return q.Stream.Bytes
}

// dropCache evicts the page cache of every file under dir (Warren's data
// dir): written back first, so that nothing stays dirty.
func dropCache(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return nil // gone meanwhile
		}
		defer f.Close()
		_ = unix.Fdatasync(int(f.Fd()))
		return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func readBytes(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "read_bytes: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatal("no read_bytes in /proc/PID/io")
	return 0
}

func read091Filtered(t *testing.T, u, q string, want int) {
	t.Helper()
	conn, ds := consumeStream091(t, u, q, "", 1000, amqp091.Table{"x-stream-offset": "first", "x-stream-filter": "rare"})
	defer conn.Close()
	for got := 0; got < want; got++ {
		select {
		case d := <-ds:
			if d.Headers["x-stream-filter-value"] != "rare" && d.Headers["v"] != "rare" {
				t.Fatalf("filtered delivery with headers %v", d.Headers)
			}
			if got%500 == 499 || got == want-1 {
				_ = d.Ack(true)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("filtered 0-9-1 reader got %d of %d", got, want)
		}
	}
}

func readStreamFiltered(t *testing.T, env *stream.Environment, name string, want int) {
	t.Helper()
	// Values set over 0-9-1 arrive as the application property
	// x-stream-filter-value; the stream-protocol publisher's as "v".
	rare := func(m *amqp.Message) bool {
		return m.ApplicationProperties["v"] == "rare" || m.ApplicationProperties["x-stream-filter-value"] == "rare"
	}
	var got atomic.Int64
	c, err := env.NewConsumer(name, func(_ stream.ConsumerContext, m *amqp.Message) { got.Add(1) },
		stream.NewConsumerOptions().SetOffset(stream.OffsetSpecification{}.First()).
			SetFilter(stream.NewConsumerFilter([]string{"rare"}, false, rare)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !spWait(120*time.Second, func() bool { return got.Load() >= int64(want) }) {
		t.Fatalf("filtered stream-protocol reader got %d of %d", got.Load(), want)
	}
}

// consumeStream091 dials url and consumes stream with prefetch and args
// (x-stream-offset and the like), manual acks; the caller closes conn.
func consumeStream091(t *testing.T, url, stream, tag string, prefetch int, args amqp091.Table) (*amqp091.Connection, <-chan amqp091.Delivery) {
	t.Helper()
	conn, err := amqp091.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := conn.Channel()
	if err != nil {
		conn.Close()
		t.Fatal(err)
	}
	if err := ch.Qos(prefetch, 0, false); err != nil {
		conn.Close()
		t.Fatal(err)
	}
	ds, err := ch.Consume(stream, tag, false, false, false, false, args)
	if err != nil {
		conn.Close()
		t.Fatal(err)
	}
	return conn, ds
}
