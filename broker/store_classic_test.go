package broker

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warrenmq/warren/segment"
)

func storeRec(i, size int, persistent bool) *segment.Record {
	b := make([]byte, size)
	copy(b, fmt.Sprintf("m%07d", i))
	r := &segment.Record{Timestamp: int64(i), Exchange: []byte("ex"), RoutingKey: []byte("rk"), Props: []byte{0, 0}, Body: b}
	if persistent {
		r.Flags = segment.FlagPersistent
	}
	return r
}

// storeMsg is storeRec as a publish brings it.
func storeMsg(i, size int, persistent bool) Message {
	r := storeRec(i, size, persistent)
	return Message{Exchange: r.Exchange, RoutingKey: r.RoutingKey, Props: r.Props, Body: r.Body, Timestamp: r.Timestamp, Persistent: persistent}
}

func storeID(body []byte) int {
	n, _ := strconv.Atoi(string(body[1:8]))
	return n
}

func openTestStore(t testing.TB, dir string, o storeOptions) *classicStore {
	t.Helper()
	s, err := openClassicStore(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.close() })
	return s
}

func countFiles(t testing.TB, dir, prefix string) int {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, prefix+"*"))
	return len(m)
}

func TestStoreRoundTrip(t *testing.T) {
	for _, durable := range []bool{true, false} {
		t.Run(fmt.Sprint("durable=", durable), func(t *testing.T) {
			dir := t.TempDir()
			s := openTestStore(t, dir, storeOptions{Durable: durable, SegmentSize: 4096})
			const n = 300
			for i := range n {
				pos, gen, err := s.appendRecord(storeRec(i, 100, true))
				if err != nil || gen != 0 || pos.Off < segment.DataStart {
					t.Fatal(pos, gen, err)
				}
			}
			if s.readyCount() != n || s.readyBytes() != n*100 {
				t.Fatalf("ready %d/%d", s.readyCount(), s.readyBytes())
			}
			for i := range n {
				pos, rec, ok := s.next()
				redelivered := rec.Redelivered
				if !ok || storeID(rec.Body) != i || redelivered {
					t.Fatalf("next %d: %v %d %v", i, ok, storeID(rec.Body), redelivered)
				}
				if r2, err := s.read(pos.pos); err != nil || storeID(r2.Body) != i {
					t.Fatal("read", err)
				}
				if err := s.ack(pos); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, ok := s.next(); ok || s.readyCount() != 0 {
				t.Fatal("store not empty")
			}
			// Everything acked: at most the head (under half full) is left.
			if c := countFiles(t, dir, "seg."); c > 1 {
				t.Fatalf("%d segment files left", c)
			}
		})
	}
}

func TestStoreRequeueOrder(t *testing.T) {
	s := openTestStore(t, t.TempDir(), storeOptions{Durable: true, SegmentSize: 4096})
	var pos []Ticket
	for i := range 40 {
		s.appendRecord(storeRec(i, 100, true))
	}
	for range 20 {
		p, _, _ := s.next()
		pos = append(pos, p)
	}
	for _, i := range []int{17, 3, 11, 5} {
		s.requeue(pos[i])
	}
	if s.readyCount() != 24 {
		t.Fatalf("ready %d", s.readyCount())
	}
	var got []int
	var red []bool
	for range 6 {
		_, rec, _ := s.next()
		r := rec.Redelivered
		got = append(got, storeID(rec.Body))
		red = append(red, r)
	}
	if fmt.Sprint(got) != "[3 5 11 17 20 21]" || fmt.Sprint(red) != "[true true true true false false]" {
		t.Fatalf("order %v redelivered %v", got, red)
	}
}

func TestStoreAckDeletesSegmentFiles(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir, storeOptions{Durable: true, SegmentSize: 4096})
	nFirst := 0
	for i := range 100 {
		p, _, _ := s.appendRecord(storeRec(i, 100, true))
		if p.Seg == 1 {
			nFirst++
		}
	}
	var first []Ticket
	for range nFirst {
		tk, _, _ := s.next()
		first = append(first, tk)
	}
	if _, err := os.Stat(filepath.Join(dir, "seg.0000000001")); err != nil {
		t.Fatal(err)
	}
	// Ack out of order; the last ack deletes segment 1 and its ack file.
	for i := len(first) - 1; i >= 0; i-- {
		if err := s.ack(first[i]); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if _, err := os.Stat(filepath.Join(dir, "ack.0000000001")); err != nil {
				t.Fatal("ack file missing before the end", err)
			}
		}
	}
	for _, f := range []string{"seg.0000000001", "ack.0000000001"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Fatalf("%s still there", f)
		}
	}
}

func dirBytes(t testing.TB, dir string) int64 {
	var n int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func TestStorePurgeReturnsDisk(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir, storeOptions{Durable: true, SegmentSize: 8192})
	for i := range 2000 {
		s.appendRecord(storeRec(i, 100, i%2 == 0))
	}
	var inflight []Ticket
	for range 30 {
		p, _, _ := s.next()
		inflight = append(inflight, p)
	}
	s.requeue(inflight[4])
	s.requeue(inflight[9])
	if got := s.purge(); got != 2000-28 {
		t.Fatalf("purged %d", got)
	}
	if s.readyCount() != 0 || s.readyBytes() != 0 {
		t.Fatal("ready after purge")
	}
	if _, _, ok := s.next(); ok {
		t.Fatal("message after purge")
	}
	if c := countFiles(t, dir, "seg."); c > 1 {
		t.Fatalf("%d segments kept for 28 in-flight messages", c)
	}
	for i, p := range inflight {
		if i == 4 || i == 9 {
			continue
		}
		if err := s.ack(p); err != nil {
			t.Fatal(err)
		}
	}
	if b := dirBytes(t, dir); b > 4096 {
		t.Fatalf("%d bytes left after purge and acks", b)
	}
	// The store still works after a purge.
	s.appendRecord(storeRec(5000, 10, true))
	if _, rec, ok := s.next(); !ok || storeID(rec.Body) != 5000 {
		t.Fatal("append after purge")
	}
}

// crashStore abandons s as a killed process would: nothing closed, the
// files left as they are (the syncer flushed what it synced).
func crashStore(s *classicStore) { s.closed = true }

func waitSynced(t testing.TB, sy *segment.Syncer, g uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for sy.Done() < g {
		if time.Now().After(deadline) {
			t.Fatal("sync timeout")
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// Crash with messages ready, in flight and acked, transient ones mixed in:
// after reopening, exactly the persistent unacked ones are ready, in order;
// the ones that had been delivered are flagged redelivered.
func TestStoreCrashRecovery(t *testing.T) {
	sy := segment.NewSyncer()
	defer sy.Close()
	dir := t.TempDir()
	o := storeOptions{Durable: true, SegmentSize: 16 << 10, Syncer: sy}
	s := openTestStore(t, dir, o)
	const n = 3000
	var last uint64
	for i := range n {
		_, g, err := s.appendRecord(storeRec(i, 100, i%5 != 0))
		if err != nil {
			t.Fatal(err)
		}
		last = max(last, g)
	}
	acked := map[int]bool{}
	var delivered []int
	for range 1200 {
		p, rec, _ := s.next()
		id := storeID(rec.Body)
		delivered = append(delivered, id)
		if id%3 != 0 {
			s.ack(p)
			acked[id] = true
		}
	}
	waitSynced(t, sy, last)
	s.idx.Close() // acks are in the ack files' mappings; make the test independent of unmapping
	crashStore(s)

	s2 := openTestStore(t, dir, o)
	var want []int
	for i := range n {
		if i%5 != 0 && !acked[i] {
			want = append(want, i)
		}
	}
	if s2.readyCount() != len(want) {
		t.Fatalf("ready %d, want %d", s2.readyCount(), len(want))
	}
	wasDelivered := map[int]bool{}
	for _, id := range delivered {
		wasDelivered[id] = true
	}
	var got []int
	flaggedFresh := 0
	for {
		_, rec, ok := s2.next()
		red := rec.Redelivered
		if !ok {
			break
		}
		id := storeID(rec.Body)
		got = append(got, id)
		if wasDelivered[id] && !red {
			t.Fatalf("message %d was delivered before the crash but is not flagged redelivered", id)
		}
		if !wasDelivered[id] && red {
			flaggedFresh++
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("recovered %d messages, want %d", len(got), len(want))
	}
	if flaggedFresh > 600 {
		t.Fatalf("%d never-delivered messages flagged redelivered", flaggedFresh)
	}
}

// Damage in the files: a torn tail in the head, a corrupt record in the
// middle of a sealed segment, a garbled ack file. No panic, no half
// message, and counts that match what next hands out.
func TestStoreCrashCorruption(t *testing.T) {
	dir := t.TempDir()
	o := storeOptions{Durable: true, SegmentSize: 8192}
	s := openTestStore(t, dir, o)
	var pos []segment.Pos
	for i := range 500 {
		p, _, _ := s.appendRecord(storeRec(i, 100, true))
		pos = append(pos, p)
	}
	for range 50 {
		p, _, _ := s.next()
		s.ack(p)
	}
	s.log.Flush()
	s.idx.Close()
	crashStore(s)

	patch := func(name string, off int64, b []byte) {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteAt(b, off)
		f.Close()
	}
	segName := func(p segment.Pos) string { return fmt.Sprintf("seg.%010d", p.Seg) }
	last := pos[len(pos)-1]
	patch(segName(last), int64(last.Off)+30, []byte{0xde, 0xad}) // torn tail
	mid := pos[200]
	patch(segName(mid), int64(mid.Off)+40, []byte{0xbe, 0xef}) // sealed segment, middle
	patch(fmt.Sprintf("ack.%010d", pos[0].Seg), 8+3, []byte{0xff})

	s2 := openTestStore(t, dir, o)
	ready := s2.readyCount()
	seen := map[int]bool{}
	n := 0
	for {
		p, rec, ok := s2.next()
		if !ok {
			break
		}
		id := storeID(rec.Body)
		if seen[id] || id == 499 || id == 200 || len(rec.Body) != 100 {
			t.Fatalf("bad message %d (len %d)", id, len(rec.Body))
		}
		seen[id] = true
		n++
		s2.ack(p)
	}
	// 450 unacked, minus the torn and the corrupt one; the damaged ack
	// entry may bring back acked ones (at-least-once), never lose others.
	for i := 50; i < 499; i++ {
		if i != 200 && !seen[i] {
			t.Fatalf("message %d lost", i)
		}
	}
	if s2.readyCount() != 0 {
		t.Fatalf("ready %d after draining", s2.readyCount())
	}
	t.Logf("ready after reopen %d, delivered %d", ready, n)
}

func TestStoreTransientDroppedOnReopen(t *testing.T) {
	dir := t.TempDir()
	o := storeOptions{Durable: true, SegmentSize: 4096}
	s := openTestStore(t, dir, o)
	for i := range 100 {
		s.appendRecord(storeRec(i, 50, i%2 == 0))
	}
	if s.readyCount() != 100 {
		t.Fatal("transient messages not ready while running")
	}
	s.close()
	s2 := openTestStore(t, dir, o)
	if s2.readyCount() != 50 {
		t.Fatalf("ready %d after reopen", s2.readyCount())
	}
	for i := 0; i < 100; i += 2 {
		_, rec, ok := s2.next()
		if !ok || storeID(rec.Body) != i {
			t.Fatalf("want %d got %d", i, storeID(rec.Body))
		}
	}
}

func TestStoreRedeliveredAfterReopen(t *testing.T) {
	dir := t.TempDir()
	o := storeOptions{Durable: true}
	s := openTestStore(t, dir, o)
	for i := range 2000 { // ~270 KiB: well past the delivered hint
		s.appendRecord(storeRec(i, 100, true))
	}
	for range 5 {
		s.next()
	}
	s.close() // in flight at close: not acked
	s2 := openTestStore(t, dir, o)
	if s2.readyCount() != 2000 {
		t.Fatalf("ready %d", s2.readyCount())
	}
	for i := range 2000 {
		_, rec, _ := s2.next()
		red := rec.Redelivered
		if storeID(rec.Body) != i {
			t.Fatal("order")
		}
		if i < 5 && !red {
			t.Fatalf("message %d not flagged redelivered", i)
		}
		if i > 1000 && red {
			t.Fatalf("message %d, never delivered, flagged", i)
		}
	}
}

// TestStoreNonDurableFiles: a non-durable store's segments are real files
// (closed when sealed, so they cost no descriptor), deleted as they are
// consumed and all at once by destroy.
func TestStoreNonDurableFiles(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir, storeOptions{SegmentSize: 4096})
	for i := range 200 {
		s.appendRecord(storeRec(i, 100, true))
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "seg.*"))
	if len(segs) < 2 {
		t.Fatalf("%d segment files for 200 records of 4 KiB segments", len(segs))
	}
	for i := range 200 {
		p, rec, ok := s.next()
		if !ok || storeID(rec.Body) != i {
			t.Fatal("next")
		}
		s.ack(p)
	}
	if segs, _ := filepath.Glob(filepath.Join(dir, "seg.*")); len(segs) > 1 {
		t.Fatalf("%d segment files left after everything was acked", len(segs))
	}
	if err := s.destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("destroy left the directory")
	}
}

// Many stores publishing at once share fdatasyncs; each append's
// generation is covered by a later Done.
func TestStoreGroupCommit(t *testing.T) {
	sy := segment.NewSyncer()
	defer sy.Close()
	var wg sync.WaitGroup
	const stores, per = 4, 1000
	gens := make([]uint64, stores)
	for k := range stores {
		s := openTestStore(t, t.TempDir(), storeOptions{Durable: true, Syncer: sy})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				_, g, err := s.appendRecord(storeRec(i, 100, true))
				if err != nil || g == 0 || g < gens[k] {
					t.Errorf("gen %d after %d: %v", g, gens[k], err)
					return
				}
				gens[k] = g
			}
		}()
	}
	wg.Wait()
	for _, g := range gens {
		waitSynced(t, sy, g)
	}
	_, syncs := sy.Stats()
	t.Logf("%d persistent appends, %d fdatasyncs", stores*per, syncs)
	if syncs > stores*per/10 {
		t.Fatalf("%d fdatasyncs", syncs)
	}
}

func TestStoreZeroAlloc(t *testing.T) {
	sy := segment.NewSyncer()
	defer sy.Close()
	for _, o := range []storeOptions{{}, {Durable: true, Syncer: sy}} {
		s := openTestStore(t, t.TempDir(), o)
		var st store = s // as a queue calls it
		m := storeMsg(1, 100, true)
		for range 1000 { // warm up: segment, map buckets, staging buffer
			st.append(m)
			p, _, _ := st.next()
			st.ack(p)
		}
		var p Ticket
		if a := testing.AllocsPerRun(5000, func() {
			st.append(m)
			p, _, _ = st.next()
			s.read(p.pos)
			st.ack(p)
		}); a != 0 {
			t.Errorf("durable=%v: %v allocs per append+next+read+ack", o.Durable, a)
		}
		if a := testing.AllocsPerRun(5000, func() { s.read(p.pos) }); a != 0 {
			t.Errorf("read allocates %v", a)
		}
	}
}

// TestStoreBigOpen measures opening a store holding 10 million persistent
// 100-byte messages: time to ready, and RSS afterwards. It writes ~1.4 GB,
// so it runs only with WARREN_BIG=1. The open runs in a fresh process (this
// test binary again), timed from its exec, so the figure includes process
// start and nothing of the writer's memory.
func TestStoreBigOpen(t *testing.T) {
	if dir := os.Getenv("WARREN_BIG_CHILD"); dir != "" {
		bigOpenChild(t, dir)
		return
	}
	if os.Getenv("WARREN_BIG") != "1" {
		t.Skip("set WARREN_BIG=1 to write and reopen 10M messages")
	}
	n := 10_000_000
	if v := os.Getenv("WARREN_BIG_N"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	dir := t.TempDir()
	sy := segment.NewSyncer()
	s, err := openClassicStore(dir, storeOptions{Durable: true, Syncer: sy})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := storeRec(0, 100, true)
	var last uint64
	for i := range n {
		_, g, err := s.appendRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		last = g
		if i%1_000_000 == 999_999 {
			waitSynced(t, sy, last) // keep the dirty page cache bounded
		}
	}
	waitSynced(t, sy, last)
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	sy.Close()
	t.Logf("wrote %d messages (%d MiB on disk) in %v", n, dirBytes(t, dir)>>20, time.Since(start))

	for _, mode := range []string{"clean", "cold", "crash-tail"} {
		if mode == "cold" {
			// Page cache dropped (needs root): footers come from disk.
			if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0); err != nil {
				t.Logf("cold open skipped: %v", err)
				continue
			}
		}
		if mode == "crash-tail" {
			// Make the last segment look unsealed: the open must scan it.
			segs, _ := filepath.Glob(filepath.Join(dir, "seg.*"))
			last := segs[len(segs)-1]
			fi, _ := os.Stat(last)
			os.Truncate(last, fi.Size()-10)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestStoreBigOpen$", "-test.v")
		cmd.Env = append(os.Environ(), "WARREN_BIG_CHILD="+dir)
		out, _ := cmd.StdoutPipe()
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		var ready time.Duration
		var lines []string
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, "BIGOPEN ready") && ready == 0 {
				ready = time.Since(t0)
			}
			if strings.Contains(line, "BIGOPEN") {
				lines = append(lines, strings.TrimSpace(line))
			}
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child: %v %v", err, lines)
		}
		t.Logf("%s open: ready %v after exec; %s", mode, ready, strings.Join(lines, "; "))
		if ready > 2*time.Second {
			t.Errorf("%s open took %v", mode, ready)
		}
	}
}

func bigOpenChild(t *testing.T, dir string) {
	t0 := time.Now()
	s, err := openClassicStore(dir, storeOptions{Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	_, rec, ok := s.next()
	opened := time.Since(t0)
	fmt.Printf("BIGOPEN ready: open+first next %v, %d ready (%v)\n", opened, s.readyCount(), ok && len(rec.Body) == 100)
	runtime.GC()
	fmt.Printf("BIGOPEN %s\n", procStatus("VmRSS", "VmHWM"))
	s.close()
}

func procStatus(keys ...string) string {
	b, _ := os.ReadFile("/proc/self/status")
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		for _, k := range keys {
			if strings.HasPrefix(line, k+":") {
				out = append(out, strings.Join(strings.Fields(line), " "))
			}
		}
	}
	return strings.Join(out, ", ")
}

// BenchmarkStoreCycle: append, next, ack of one message per op, as a queue
// with a consumer keeping up does (the syncer is not waited for).
func BenchmarkStoreCycle(b *testing.B) {
	for _, size := range []int{100, 1024} {
		for _, durable := range []bool{false, true} {
			b.Run(fmt.Sprintf("durable=%v/%dB", durable, size), func(b *testing.B) {
				o := storeOptions{Durable: durable}
				if durable {
					sy := segment.NewSyncer()
					defer sy.Close()
					o.Syncer = sy
				}
				var s store = openTestStore(b, b.TempDir(), o)
				m := storeMsg(1, size, true)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if _, err := s.append(m); err != nil {
						b.Fatal(err)
					}
					p, _, ok := s.next()
					if !ok {
						b.Fatal("empty")
					}
					if err := s.ack(p); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}

// TestTransientQueueFilesCleaned: a non-durable queue's segments are real
// files under transient/ (so the fd cache can close them); they go with
// the queue on delete, and whatever a broker left there (a crash) goes at
// the next start.
func TestTransientQueueFilesCleaned(t *testing.T) {
	dir := t.TempDir()
	b, err := Open(Config{DataDir: dir, SegmentSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := b.VHost("/")
	segs := func() []string {
		m, _ := filepath.Glob(filepath.Join(dir, "transient", "*", "seg.*"))
		return m
	}
	for _, q := range []string{"gone", "left"} {
		if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: q}); err != nil {
			t.Fatal(err)
		}
		publishN(t, v, q, 200)
	}
	before := len(segs())
	if before < 4 {
		t.Fatalf("%d transient segment files for two queues of 200 messages in 4 KiB segments", before)
	}
	if _, err := v.QueueDelete(guest, "gone", QueueDeleteOptions{}, 0); err != nil {
		t.Fatal(err)
	}
	after := len(segs())
	if after == 0 || after >= before {
		t.Fatalf("%d segment files before deleting one of two queues, %d after", before, after)
	}
	// Close leaves the other queue's files, as a crash would.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if len(segs()) == 0 {
		t.Fatal("no transient files left to clean at start")
	}
	b2, err := Open(Config{DataDir: dir, SegmentSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	if n := len(segs()); n != 0 {
		t.Fatalf("%d transient segment files after a restart", n)
	}
}
