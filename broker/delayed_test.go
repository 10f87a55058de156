package broker

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/warrenmq/warren/frame"
)

func delayedProps(delay int64, persistent bool) []byte {
	p := frame.Properties{Headers: frame.Table{"x-delay": delay}}
	if persistent {
		p.DeliveryMode = 2
	}
	return frame.AppendProperties(nil, &p)
}

// setupDelayed declares a durable delayed direct exchange bound to a queue
// and returns it with its vhost.
func setupDelayed(t testing.TB, b *Broker, durable bool) (*VHost, *delayedExchange, *Queue) {
	t.Helper()
	v, _ := b.VHost("/")
	if err := v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "dx", Type: delayedType, Durable: durable, Args: frame.Table{"x-delayed-type": "direct"}}); err != nil {
		t.Fatal(err)
	}
	q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "dq", Durable: durable})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.QueueBind(guest, Binding{Source: "dx", Destination: "dq", Key: "k"}, 0); err != nil {
		t.Fatal(err)
	}
	x, _ := v.Exchange("dx")
	return v, x.ext.delayed, q
}

func publishDelayed(t testing.TB, v *VHost, delay int64, persistent bool, cache *PublishCache, scratch []*Queue) []*Queue {
	m := Message{Exchange: []byte("dx"), RoutingKey: []byte("k"), Props: delayedProps(delay, persistent), Body: []byte("body"), Persistent: persistent, Timestamp: nowMs()}
	_, scratch, err := v.Publish(guest, &m, cache, scratch)
	if err != nil {
		t.Fatal(err)
	}
	return scratch
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Messages spread over several buckets all fire, and every bucket's files
// are deleted once its messages fired: the disk is given back.
func TestDelayedBucketsReclaimed(t *testing.T) {
	b := openTestBroker(t)
	v, d, q := setupDelayed(t, b, true)
	var cache PublishCache
	var scratch []*Queue
	const n = 600
	for i := range n {
		scratch = publishDelayed(t, v, int64(1+i*4), true, &cache, scratch) // 0-2.4 s: three buckets
	}
	waitFor(t, "all delayed messages to fire", func() bool { return q.Ready() == n })
	waitFor(t, "the buckets to be deleted", func() bool {
		ents, _ := os.ReadDir(d.dir)
		d.mu.Lock()
		left := len(d.buckets)
		d.mu.Unlock()
		return len(ents) == 0 && left == 0
	})
	if p := d.Pending(); p != 0 {
		t.Fatalf("pending %d after all fired", p)
	}
	if b.Timer().Len() != 0 {
		t.Fatalf("timer holds %d entries with nothing delayed", b.Timer().Len())
	}
}

// rssKB reads this process's resident set and its peak.
func rssKB() (rss, peak int64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, val, _ := strings.Cut(s.Text(), ":")
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			peak = n
		}
	}
	return rss, peak
}

func treeDiskBytes(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			} else {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// TestDelayedScale is the benchmark of docs/BENCHMARKS.md: WARREN_DELAYED_N
// persistent messages into a durable delayed exchange, due spread over
// WARREN_DELAYED_WINDOW seconds after they are all published; it reports
// RSS and disk with them all waiting, and the lateness of their firing.
// WARREN_DELAYED_DIR puts the data on a disk of your choice.
// WARREN_DELAYED_RESTART=1 closes and reopens the broker once everything
// is published (before the first is due) and reports how long that took.
// RSS and the load average are logged every 5 s throughout.
func TestDelayedScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("WARREN_DELAYED_N"))
	if n == 0 {
		t.Skip("set WARREN_DELAYED_N (e.g. 1000000) to run")
	}
	window, _ := strconv.Atoi(os.Getenv("WARREN_DELAYED_WINDOW"))
	if window == 0 {
		window = 60
	}
	restart := os.Getenv("WARREN_DELAYED_RESTART") != ""
	dir := os.Getenv("WARREN_DELAYED_DIR")
	if dir == "" {
		dir = t.TempDir()
	} else {
		var err error
		if dir, err = os.MkdirTemp(dir, "delayed-scale-*"); err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
	}
	b, err := Open(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Close() }()
	v, d, q := setupDelayed(t, b, true)
	// Fired messages go into the queue; drain it as they arrive so the
	// queue's disk does not count.
	var hist [60_001]int64 // lateness in ms, the last slot is "later"
	var mu sync.Mutex
	var publishing atomic.Bool
	var duringPublish atomic.Int64
	publishing.Store(true)
	// The firing times of messages later than 50 ms (the first 1 M), to
	// see what they coincide with: the purges below, GC, bucket reads.
	var lateAt []int64
	lateness := func(ms int64) {
		if publishing.Load() {
			// Competing with the publisher for the CPU: not what is
			// measured (the window is placed after the publishing).
			duringPublish.Add(1)
			return
		}
		ms = min(max(ms, 0), int64(len(hist)-1))
		mu.Lock()
		hist[ms]++
		if ms > 50 && len(lateAt) < 1_000_000 {
			lateAt = append(lateAt, time.Now().UnixMicro())
		}
		mu.Unlock()
	}
	d.lateness = lateness
	runtime.GC()
	debug.FreeOSMemory()
	rss0, _ := rssKB()

	// RSS over time, with the phase and the load average.
	tStart := time.Now()
	var phase atomic.Value
	phase.Store("publishing")
	stopSampler := make(chan struct{})
	samplerDone := make(chan struct{})
	go func() {
		defer close(samplerDone)
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stopSampler:
				return
			case <-tick.C:
				r, _ := rssKB()
				t.Logf("t=%3.0fs %-10s RSS %3d MiB load %s", time.Since(tStart).Seconds(), phase.Load(), r>>10, loadAvg())
			}
		}
	}()
	defer func() { close(stopSampler); <-samplerDone }()

	// All due within [start+publish, start+publish+window]: the
	// publishing is timed first to place the window after it.
	estPublish := time.Duration(n/50_000+10) * time.Second
	windowStart := time.Now().Add(estPublish)
	var cache PublishCache
	var scratch []*Queue
	props := make(map[int64][]byte)
	t0 := time.Now()
	for range n {
		due := windowStart.Add(time.Duration(rand.Int64N(int64(window) * int64(time.Second))))
		delay := time.Until(due).Milliseconds()
		p, ok := props[delay]
		if !ok {
			p = delayedProps(delay, true)
			props[delay] = p
		}
		m := Message{Exchange: []byte("dx"), RoutingKey: []byte("k"), Props: p, Body: []byte("0123456789abcdef"), Persistent: true, Timestamp: nowMs()}
		if _, scratch, err = v.Publish(guest, &m, &cache, scratch); err != nil {
			t.Fatal(err)
		}
	}
	pubDur := time.Since(t0)
	publishing.Store(false)
	phase.Store("waiting")
	props = nil
	runtime.GC()
	debug.FreeOSMemory()
	rss1, _ := rssKB()
	disk := treeDiskBytes(d.dir)
	t.Logf("published %d delayed messages in %v (%.0f msg/s); window %ds; started early by %v; load %s", n, pubDur.Round(time.Millisecond), float64(n)/pubDur.Seconds(), window, time.Until(windowStart).Round(time.Millisecond), loadAvg())
	t.Logf("all waiting: RSS %d MiB (before %d MiB), delayed buckets on disk %d MiB, pending %d", rss1>>10, rss0>>10, disk>>20, d.Pending())

	var closeDur, openDur time.Duration
	rssOpen := int64(0)
	if restart {
		phase.Store("restart")
		tc := time.Now()
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		closeDur = time.Since(tc)
		runtime.GC()
		debug.FreeOSMemory()
		to := time.Now()
		if b, err = Open(Config{DataDir: dir}); err != nil {
			t.Fatal(err)
		}
		openDur = time.Since(to)
		v, _ = b.VHost("/")
		if q, err = v.Queue(guest, "dq", 0); err != nil {
			t.Fatal(err)
		}
		x, _ := v.Exchange("dx")
		d = x.ext.delayed
		d.mu.Lock()
		d.lateness = lateness
		d.mu.Unlock()
		rssOpen, _ = rssKB()
		t.Logf("restart: close %v, open %v; RSS after open %d MiB, pending %d; window starts in %v", closeDur.Round(time.Millisecond), openDur.Round(time.Millisecond), rssOpen>>10, d.Pending(), time.Until(windowStart).Round(time.Millisecond))
		if time.Until(windowStart) < 0 {
			t.Errorf("the restart ended after the first message was due: lateness includes it")
		}
		phase.Store("waiting")
	}
	var peakRSS int64
	var purges [][2]int64 // start and end of each purge, unix µs
	var gc0 debug.GCStats
	debug.ReadGCStats(&gc0)
	// Pending is what this process has seen delayed and not fired; after
	// a restart the buckets are read lazily, so wait for them to go too.
	for {
		d.mu.Lock()
		buckets := len(d.buckets)
		d.mu.Unlock()
		if buckets == 0 && d.Pending() <= 0 {
			break
		}
		time.Sleep(500 * time.Millisecond)
		if time.Now().After(windowStart) {
			phase.Store("firing")
		}
		ps := time.Now()
		q.Purge()
		purges = append(purges, [2]int64{ps.UnixMicro(), time.Now().UnixMicro()})
		if r, _ := rssKB(); r > peakRSS {
			peakRSS = r
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var total int64
	for _, c := range hist {
		total += c
	}
	pct := func(p float64) int {
		want := int64(float64(total) * p)
		var acc int64
		for ms, c := range hist {
			acc += c
			if acc > want {
				return ms
			}
		}
		return len(hist) - 1
	}
	over50 := int64(0)
	for ms := 51; ms < len(hist); ms++ {
		over50 += hist[ms]
	}
	t.Logf("%d fired while publishing, not counted", duringPublish.Load())
	latenessCauses(t, lateAt, purges, gc0)
	if got := total + duringPublish.Load(); got != int64(n) {
		t.Errorf("%d messages fired, want %d", got, n)
	}
	t.Logf("fired %d: lateness p50 %d ms, p99 %d ms, p99.9 %d ms, max %d ms, %d over 50 ms; RSS peak while firing %d MiB; load %s", total, pct(0.50), pct(0.99), pct(0.999), pct(1-1e-9), over50, peakRSS>>10, loadAvg())
	fmt.Fprintf(os.Stderr, "DELAYED n=%d publish_rate=%.0f rss_before_mib=%d rss_waiting_mib=%d disk_mib=%d restart_close_ms=%d restart_open_ms=%d rss_after_open_mib=%d p50_ms=%d p99_ms=%d p999_ms=%d max_ms=%d over50=%d rss_peak_firing_mib=%d\n",
		n, float64(n)/pubDur.Seconds(), rss0>>10, rss1>>10, disk>>20, closeDur.Milliseconds(), openDur.Milliseconds(), rssOpen>>10, pct(0.5), pct(0.99), pct(0.999), pct(1-1e-9), over50, peakRSS>>10)
}

// latenessCauses logs how many of the late firings (lateAt, unix µs) fell
// during a purge of the target queue (the test's own, holding the queue's
// lock) and the GC pauses since gc0.
func latenessCauses(t *testing.T, lateAt []int64, purges [][2]int64, gc0 debug.GCStats) {
	var inPurge int
	var maxPurge int64
	for _, p := range purges {
		maxPurge = max(maxPurge, p[1]-p[0])
	}
	j := 0
	for _, at := range lateAt {
		for j < len(purges) && purges[j][1]+1000 < at {
			j++
		}
		if j < len(purges) && purges[j][0] <= at && at <= purges[j][1]+1000 {
			inPurge++
		}
	}
	var gc debug.GCStats
	gc.PauseQuantiles = make([]time.Duration, 5)
	debug.ReadGCStats(&gc)
	t.Logf("late (>50 ms) firings: %d, %d of them during or within 1 ms after one of %d purges (longest purge %d ms); GC: %d cycles, pause total %v, max pause %v",
		len(lateAt), inPurge, len(purges), maxPurge/1000, gc.NumGC-gc0.NumGC, gc.PauseTotal-gc0.PauseTotal, gc.PauseQuantiles[4])
}

// loadAvg is /proc/loadavg's three load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// After a downtime every bucket is past due: they are read a few at a time
// (never all into memory), and the messages still fire in due order.
func TestDelayedDowntimeFiresInOrder(t *testing.T) {
	defer func(w, l int64) { delayBucketWidth, delayLoadLimit = w, int(l) }(delayBucketWidth, int64(delayLoadLimit))
	delayBucketWidth, delayLoadLimit = 50, 10
	dir := t.TempDir()
	b, err := Open(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	v, _, _ := setupDelayed(t, b, true)
	const n = 300
	var cache PublishCache
	for i := range n {
		m := Message{Exchange: []byte("dx"), RoutingKey: []byte("k"), Props: delayedProps(int64(200+i*2), true), Body: []byte(strconv.Itoa(i)), Persistent: true, Timestamp: nowMs()}
		if _, _, err := v.Publish(guest, &m, &cache, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(); err != nil { // before the first is due
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Duration(200+n*2+100) * time.Millisecond); time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	b2, err := Open(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	v2, _ := b2.VHost("/")
	q, err := v2.Queue(guest, "dq", 0)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the messages due during the downtime", func() bool { return q.Ready() >= n })
	for i := range n {
		var body string
		if !q.Get(true, func(_ Ticket, d Delivery, _ int) { body = string(d.Body) }) {
			t.Fatalf("queue empty after %d", i)
		}
		if body != strconv.Itoa(i) {
			t.Fatalf("message %d is %q: not in due order", i, body)
		}
	}
}

// What fired before a restart does not fire again; the rest does, once.
func TestDelayedRestartSkipsFired(t *testing.T) {
	dir := t.TempDir()
	b, err := Open(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	v, _, q := setupDelayed(t, b, true)
	var cache PublishCache
	for i := range 200 {
		delay := int64(50 + i%100) // two per ms: same-ms messages across batches
		if i >= 100 {
			delay = 2500
		}
		m := Message{Exchange: []byte("dx"), RoutingKey: []byte("k"), Props: delayedProps(delay, true), Body: []byte(strconv.Itoa(i)), Persistent: true, Timestamp: nowMs()}
		if _, _, err := v.Publish(guest, &m, &cache, nil); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the first 100 to fire", func() bool { return q.Ready() >= 100 })
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b2, err := Open(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	v2, _ := b2.VHost("/")
	q2, err := v2.Queue(guest, "dq", 0)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := v2.Exchange("dx")
	d2 := x.ext.delayed
	waitFor(t, "every bucket to fire and go", func() bool {
		d2.mu.Lock()
		defer d2.mu.Unlock()
		return len(d2.buckets) == 0 && q2.Ready() >= 200
	})
	count := map[string]int{}
	for q2.Get(true, func(_ Ticket, d Delivery, _ int) { count[string(d.Body)]++ }) {
	}
	if len(count) != 200 {
		t.Fatalf("%d distinct messages, want 200", len(count))
	}
	for body, n := range count {
		if n != 1 {
			t.Fatalf("message %s delivered %d times", body, n)
		}
	}
}

// Firing rewrites only x-delay: every other property, zero values
// included, comes out as it went in.
func TestNegateDelayKeepsProperties(t *testing.T) {
	p := frame.Properties{ContentType: "text/plain", ContentEncoding: "gzip", Headers: frame.Table{"x-delay": int64(5000), "k": "v"}, DeliveryMode: 2, MessageID: "id", Timestamp: 7}
	raw := frame.AppendProperties(nil, &p)
	raw = append(raw[:0:0], raw...)
	out := negateDelay(raw)
	got, err := frame.DecodeProperties(out)
	if err != nil {
		t.Fatal(err)
	}
	if got.Headers["x-delay"] != int32(-5000) || got.Headers["k"] != "v" {
		t.Fatalf("headers %v", got.Headers)
	}
	got.Headers, p.Headers = nil, nil
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("properties %+v, want %+v", got, p)
	}
	if _, ok := messageDelay(out); ok {
		t.Fatal("a fired message would be delayed again")
	}
	if d, ok := messageDelay(raw); !ok || d != 5000 {
		t.Fatalf("delay %d %v", d, ok)
	}
}

// A fired message's integer x-delay is negated where it stands, as a
// signedint (the plugin's set_table_value): the other headers keep their
// order and bytes; a delay whose negation does not fit 32 bits takes the
// table rewrite and stays a long.
func TestNegateDelayInPlace(t *testing.T) {
	for _, c := range []struct {
		delay any
		want  any
	}{
		{int32(5000), int32(-5000)},
		{int64(5000), int32(-5000)},
		{int16(300), int32(-300)},
		{int64(1) << 40, -(int64(1) << 40)},
	} {
		p := frame.Properties{Headers: frame.Table{"a": "first", "x-delay": c.delay, "z": int64(7)}, DeliveryMode: 2}
		raw := frame.AppendProperties(nil, &p)
		out := negateDelay(raw)
		got, err := frame.DecodeProperties(out)
		if err != nil {
			t.Fatal(err)
		}
		if got.Headers["x-delay"] != c.want || got.Headers["a"] != "first" || got.Headers["z"] != int64(7) || got.DeliveryMode != 2 {
			t.Fatalf("x-delay %v (%T): headers %v", c.delay, c.delay, got.Headers)
		}
		if _, ok := c.want.(int32); !ok {
			continue
		}
		// Byte for byte but the x-delay entry: "a" before it, "z" after.
		fa, _ := frame.PropsHeaderField(raw, "a")
		fz, _ := frame.PropsHeaderField(raw, "z")
		ga, _ := frame.PropsHeaderField(out, "a")
		gz, _ := frame.PropsHeaderField(out, "z")
		if string(raw[fa.Start:fa.End]) != string(out[ga.Start:ga.End]) || string(raw[fz.Start:fz.End]) != string(out[gz.Start:gz.End]) || ga.Start != fa.Start || gz.Start > gz.End {
			t.Fatalf("x-delay %v: other headers moved or changed", c.delay)
		}
	}
}
