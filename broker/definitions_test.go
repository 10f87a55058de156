package broker

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func reopen(t testing.TB, b *Broker) *Broker {
	t.Helper()
	dir := b.Config().DataDir
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	nb, err := Open(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nb.Close() })
	return nb
}

// topology lists v's durable queues, exchanges and bindings, sorted, for
// comparing before and after a restart.
func topology(v *VHost) []string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	d := v.snapshotLocked()
	var out []string
	for _, x := range d.Exchanges {
		out = append(out, fmt.Sprintf("x %s %s ad=%v", x.Name, x.Type, x.AutoDelete))
	}
	for _, q := range d.Queues {
		out = append(out, fmt.Sprintf("q %s ad=%v %v", q.Name, q.AutoDelete, q.Arguments))
	}
	for _, b := range d.Bindings {
		out = append(out, fmt.Sprintf("b %s -> %s %s %q %v", b.Source, b.DestinationType, b.Destination, b.RoutingKey, b.Arguments))
	}
	slices.Sort(out)
	return out
}

func mustOK(t testing.TB) func(error) {
	return func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Every kind of change survives a restart through the journal: declares,
// deletes (with the bindings they take along), binds and unbinds of both
// kinds, and non-durable entities stay out.
func TestDefinitionsJournalReplay(t *testing.T) {
	must := mustOK(t)
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	for _, n := range []string{"q1", "q2", "q3"} {
		_, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: n, Durable: true, Args: map[string]any{"x-max-length": int32(5)}})
		must(err)
	}
	_, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "transient"})
	must(err)
	must(v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "x1", Type: "topic", Durable: true}))
	must(v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "x2", Type: "fanout", Durable: true}))
	must(v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "gone", Type: "direct", Durable: true}))
	must(v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "nd", Type: "direct"}))
	must(v.QueueBind(guest, Binding{Source: "x1", Destination: "q1", Key: "a.*"}, 0))
	must(v.QueueBind(guest, Binding{Source: "x1", Destination: "q1", Key: "b.#"}, 0))
	must(v.QueueBind(guest, Binding{Source: "x1", Destination: "q2", Key: "a.*"}, 0))
	must(v.QueueBind(guest, Binding{Source: "x2", Destination: "q3"}, 0))
	must(v.QueueBind(guest, Binding{Source: "gone", Destination: "q3", Key: "k"}, 0))
	must(v.QueueBind(guest, Binding{Source: "nd", Destination: "q3", Key: "k"}, 0))
	must(v.ExchangeBind(guest, Binding{Source: "x2", Destination: "x1", Key: "e"}))
	must(v.QueueUnbind(guest, Binding{Source: "x1", Destination: "q1", Key: "b.#"}, 0))
	_, err = v.QueueDelete(guest, "q2", QueueDeleteOptions{}, 0)
	must(err)
	must(v.ExchangeDelete(guest, "gone", ExchangeDeleteOptions{}))
	want := topology(v)

	b = reopen(t, b)
	v, _ = b.VHost("/")
	if got := topology(v); !slices.Equal(got, want) {
		t.Fatalf("after restart:\n%v\nwant\n%v", got, want)
	}
	if _, ok := v.Exchange("nd"); ok {
		t.Fatal("non-durable exchange survived a restart")
	}
	if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "transient", Passive: true}); err == nil {
		t.Fatal("non-durable queue survived a restart")
	}
	if n := routed(t, v, "x2", "a.b"); n != 2 { // q3, and q1 through x1
		t.Fatalf("x2 routed to %d queues after restart, want 2", n)
	}
	// Changes after the restart go on the same journal.
	must(v.ExchangeUnbind(guest, Binding{Source: "x2", Destination: "x1", Key: "e"}))
	want = topology(v)
	b = reopen(t, b)
	v, _ = b.VHost("/")
	if got := topology(v); !slices.Equal(got, want) {
		t.Fatalf("after second restart:\n%v\nwant\n%v", got, want)
	}
}

// The journal is folded into definitions.json once it is long, in
// RabbitMQ's export shape, and what follows goes on a new journal.
func TestDefinitionsCompaction(t *testing.T) {
	must := mustOK(t)
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	must(v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "x", Type: "direct", Durable: true}))
	const n = 3000 // 6,000 records: past the first compaction at 4,096
	for i := range n {
		q := fmt.Sprintf("q%d", i)
		_, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: q, Durable: true})
		must(err)
		must(v.QueueBind(guest, Binding{Source: "x", Destination: q, Key: q}, 0))
	}
	want := topology(v)
	data, err := os.ReadFile(filepath.Join(v.dir, definitionsFile))
	if err != nil {
		t.Fatalf("no snapshot after %d changes: %v", 2*n, err)
	}
	var d struct {
		Journal  uint64            `json:"warren_journal"`
		Queues   []json.RawMessage `json:"queues"`
		Bindings []json.RawMessage `json:"bindings"`
	}
	must(json.Unmarshal(data, &d))
	if d.Journal == 0 || len(d.Queues) == 0 || len(d.Bindings) == 0 {
		t.Fatalf("snapshot: journal %d, %d queues, %d bindings", d.Journal, len(d.Queues), len(d.Bindings))
	}
	if _, err := os.Stat(journalPath(v.dir, 0)); !os.IsNotExist(err) {
		t.Fatalf("compacted journal still there: %v", err)
	}
	b = reopen(t, b)
	v, _ = b.VHost("/")
	if got := topology(v); !slices.Equal(got, want) {
		t.Fatalf("after restart: %d entries, want %d", len(got), len(want))
	}
}

// A torn last record (a crash in the middle of a write) is cut off; what
// came before it stands, and later changes append after the cut.
func TestDefinitionsTornJournalTail(t *testing.T) {
	must := mustOK(t)
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	_, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "kept", Durable: true})
	must(err)
	dir := b.Config().DataDir
	must(b.Close())
	path := journalPath(v.dir, v.defs.gen) // the close folded the journal into a new snapshot
	whole, err := os.ReadFile(path)
	must(err)
	rec := encodeRecord([]byte(`{"op":"queue.declare","queue":{"name":"torn","durable":true}}`))
	must(os.WriteFile(path, append(slices.Clone(whole), rec[:len(rec)-3]...), 0o644))

	b, err = Open(Config{DataDir: dir})
	must(err)
	v, _ = b.VHost("/")
	if got := topology(v); !slices.Equal(got, []string{"q kept ad=false map[]"}) {
		t.Fatalf("after torn tail: %v", got)
	}
	_, err = v.QueueDeclare(guest, QueueDeclareOptions{Name: "after", Durable: true})
	must(err)
	b = reopen(t, b)
	v, _ = b.VHost("/")
	if got := topology(v); len(got) != 2 {
		t.Fatalf("declare after the cut lost: %v", got)
	}
}

// A data dir written before the journal, with only definitions.json, loads.
func TestDefinitionsUpgradeFromSnapshotOnly(t *testing.T) {
	must := mustOK(t)
	dir := t.TempDir()
	vdir := filepath.Join(dir, "vhosts", nameDir("/"))
	must(os.MkdirAll(vdir, 0o755))
	old := `{
  "vhost": "/",
  "exchanges": [{"name": "x", "type": "direct", "durable": true, "auto_delete": false, "internal": false, "arguments": null}],
  "queues": [{"name": "q", "durable": true, "auto_delete": false, "arguments": {"x-max-length": 10}}],
  "bindings": [{"source": "x", "destination": "q", "destination_type": "queue", "routing_key": "k", "arguments": null}]
}`
	must(os.WriteFile(filepath.Join(vdir, definitionsFile), []byte(old), 0o644))
	b, err := Open(Config{DataDir: dir})
	must(err)
	t.Cleanup(func() { b.Close() })
	v, _ := b.VHost("/")
	if n := routed(t, v, "x", "k"); n != 1 {
		t.Fatalf("old definitions: x routed to %d queues", n)
	}
	_, err = v.QueueDeclare(guest, QueueDeclareOptions{Name: "q", Durable: true, Args: map[string]any{"x-max-length": int64(10)}})
	must(err)
	_, err = v.QueueDeclare(guest, QueueDeclareOptions{Name: "new", Durable: true})
	must(err)
	b = reopen(t, b)
	v, _ = b.VHost("/")
	if got := topology(v); len(got) != 4 {
		t.Fatalf("after upgrade and restart: %v", got)
	}
}

// Declaring a durable queue costs the same with 20,000 queues as with
// 2,000: the work per change does not grow with the definitions. Before
// the journal every declare rewrote all of them, so bytes written per
// declare grew tenfold and the rate fell from 484/s to 51/s. Bytes are the
// strict check (they do not depend on how busy the machine is); time gets
// a loose one. Declarers run concurrently, as their fsyncs are shared.
func TestDeclareCostFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("declares 20,000 durable queues")
	}
	if _, err := writtenBytes(); err != nil {
		t.Skipf("cannot read this process's I/O counters: %v", err)
	}
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	const workers = 16
	deadline := time.Now().Add(2 * time.Minute)
	// declare adds queues [from, to) and returns the time per queue.
	declare := func(from, to int) time.Duration {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		start := time.Now()
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := from + w; i < to; i += workers {
					if time.Now().After(deadline) {
						errs <- fmt.Errorf("declare rate collapsed: queue %d after 2 minutes", i)
						return
					}
					if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: fmt.Sprintf("q%06d", i), Durable: true}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		return time.Since(start) / time.Duration(to-from)
	}
	// The fastest of three windows at each size: other tests running on
	// the same cores slow some windows down, never speed one up.
	fastest := func(from int) time.Duration {
		return min(declare(from, from+200), declare(from+200, from+400), declare(from+400, from+600))
	}
	w0, _ := writtenBytes()
	declare(0, 1400)
	small := fastest(1400)
	w2k, _ := writtenBytes()
	declare(2000, 19400)
	large := fastest(19400)
	w20k, _ := writtenBytes()
	perSmall := float64(w2k-w0) / 2000
	perAll := float64(w20k-w0) / 20000 // snapshots written on the way included
	t.Logf("per declare: %v and %.0f bytes over the first 2,000 queues; %v at 20,000, %.0f bytes over all 20,000", small, perSmall, large, perAll)
	if perAll > 4*perSmall || perAll > 2048 {
		t.Fatalf("bytes written per declare: %.0f over 20,000 queues, %.0f over 2,000: the cost grows with the queue count", perAll, perSmall)
	}
	if large > 10*small+2*time.Millisecond {
		t.Fatalf("declare at 20,000 queues took %v, at 2,000 %v: the cost grows with the queue count", large, small)
	}
}

// writtenBytes is how many bytes this process has passed to write calls.
func writtenBytes() (int64, error) {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, errors.New("no wchar in /proc/self/io")
}
