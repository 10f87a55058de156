package index

import (
	"bytes"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/warrenmq/warren/segment"
)

const recSize = 136 // a 100-byte body with a short exchange and key

func pos(seg uint32, i int) segment.Pos {
	return segment.Pos{Seg: seg, Off: segment.DataStart + uint32(i*recSize)}
}

// seed registers n records in seg, as appends would.
func seed(x *Index, seg uint32, n int) {
	for range n {
		x.Added(seg, 100)
	}
}

func recovered(seg uint32, n int) segment.Recovered {
	return segment.Recovered{ID: seg, Used: segment.DataStart + uint32(n*recSize), Live: uint32(n), LiveBody: uint64(n * 100)}
}

func openIdx(t testing.TB, dir string, durable bool, recs ...segment.Recovered) *Index {
	t.Helper()
	x, err := Open(dir, Options{Durable: durable, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, recs)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestAckCompletesAndDrop(t *testing.T) {
	dir := t.TempDir()
	x := openIdx(t, dir, true)
	defer x.Close()
	seed(x, 1, 10)
	for i := range 10 {
		complete, err := x.Ack(pos(1, i), recSize, 100, true)
		if err != nil {
			t.Fatal(err)
		}
		if complete != (i == 9) {
			t.Fatalf("ack %d: complete=%v", i, complete)
		}
	}
	if _, err := x.Ack(pos(1, 3), recSize, 100, true); err != ErrDone {
		t.Fatalf("double ack: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ackName(1))); err != nil {
		t.Fatal("no ack file")
	}
	if err := x.Drop(1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ackName(1))); !os.IsNotExist(err) {
		t.Fatal("ack file not deleted")
	}
	if n, b := x.NotDone(); n != 0 || b != 0 {
		t.Fatalf("not done %d %d", n, b)
	}
}

// In-order acks rewrite two slots in turn: the file never grows.
func TestAckFileStaysSmallInOrder(t *testing.T) {
	x := openIdx(t, t.TempDir(), true)
	defer x.Close()
	seed(x, 1, 20000)
	for i := range 19999 {
		if _, err := x.Ack(pos(1, i), recSize, 100, true); err != nil {
			t.Fatal(err)
		}
	}
	af := x.find(1).af
	if af.n > 2 || af.size != ackFileSize {
		t.Fatalf("ack file: %d slots used, %d bytes", af.n, af.size)
	}
}

func reopen(t *testing.T, dir string, x *Index, recs ...segment.Recovered) *Index {
	t.Helper()
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	return openIdx(t, dir, true, recs...)
}

func doneSet(x *Index, seg uint32, n int) []bool {
	out := make([]bool, n)
	for i := range n {
		_, out[i] = x.Skip(pos(seg, i))
	}
	return out
}

// Random acks overflow the file many times (compaction, growth); a reopen
// sees exactly the same done records and counts.
func TestAckFileRandomReopen(t *testing.T) {
	const n = 5000
	dir := t.TempDir()
	x := openIdx(t, dir, true)
	seed(x, 1, n)
	seed(x, 2, n)
	perm := rand.Perm(n)
	for _, i := range perm[:n*3/4] {
		if _, err := x.Ack(pos(1, i), recSize, 100, true); err != nil {
			t.Fatal(err)
		}
		if _, err := x.Ack(pos(2, n-1-i), recSize, 100, i%2 == 0); err != nil {
			t.Fatal(err)
		}
	}
	want1 := doneSet(x, 1, n)
	want2 := doneSet(x, 2, n)
	x = reopen(t, dir, x, recovered(1, n), recovered(2, n))
	defer x.Close()
	if got := doneSet(x, 1, n); !equalBools(got, want1) {
		t.Fatal("segment 1 differs after reopen")
	}
	// Only the persistent half of segment 2's acks survive.
	got2 := doneSet(x, 2, n)
	for i := range n {
		if got2[i] && !want2[i] {
			t.Fatalf("record %d done after reopen but not before", i)
		}
	}
	if c, _ := x.Left(1); c != n/4 {
		t.Fatalf("segment 1 has %d left, want %d", c, n/4)
	}
}

func equalBools(a, b []bool) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *logBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// A damaged entry is skipped with a log line; the rest stands.
func TestAckFileDamage(t *testing.T) {
	dir := t.TempDir()
	x := openIdx(t, dir, true)
	seed(x, 1, 100)
	for _, i := range []int{1, 3, 5, 7, 9} { // five separate runs, five entries
		x.Ack(pos(1, i), recSize, 100, true)
	}
	x.Close()
	path := filepath.Join(dir, ackName(1))
	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	f.WriteAt([]byte{0xFF}, ackHeaderSize+2*entrySize+5) // third entry: record 5
	f.Close()
	var logs logBuf
	x, err := Open(dir, Options{Durable: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, []segment.Recovered{recovered(1, 100)})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	got := doneSet(x, 1, 10)
	want := []bool{false, true, false, true, false, false, false, true, false, true}
	if !equalBools(got, want) {
		t.Fatalf("done %v", got)
	}
	if !strings.Contains(logs.b.String(), "damaged ack entries") {
		t.Fatal("damage not logged")
	}
	// Truncated mid-entry: still opens.
	x.Close()
	os.Truncate(path, ackHeaderSize+entrySize+7)
	x2 := openIdx(t, dir, true, recovered(1, 100))
	defer x2.Close()
	if got := doneSet(x2, 1, 3); !equalBools(got, []bool{false, true, false}) {
		t.Fatalf("after truncation %v", got)
	}
}

// For a scanned segment, acks past its (cut) end or off record boundaries
// are dropped; counts come from the scan.
func TestRecoverChecksSpans(t *testing.T) {
	dir := t.TempDir()
	x := openIdx(t, dir, true)
	seed(x, 1, 10)
	for i := range 6 {
		x.Ack(pos(1, i), recSize, 100, true)
	}
	x.Ack(pos(1, 8), recSize, 100, true)
	x.Close()
	// The scan found 5 records; record 3 was padded over; the tail is cut.
	var spans []segment.Span
	for i := range 5 {
		p := pos(1, i)
		spans = append(spans, segment.Span{Off: p.Off, End: p.Off + recSize, Body: 100, Live: i != 3})
	}
	r := segment.Recovered{ID: 1, Used: pos(1, 5).Off, Live: 4, LiveBody: 400, Spans: spans}
	x = openIdx(t, dir, true, r)
	defer x.Close()
	// The run 0..6 ends past the cut: dropped. Run 8 is past the end too.
	if c, _ := x.Left(1); c != 4 {
		t.Fatalf("left %d", c)
	}
}

func TestOrphanAckFilesRemoved(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ackName(7)), make([]byte, 100), 0o644)
	x := openIdx(t, dir, true)
	defer x.Close()
	if _, err := os.Stat(filepath.Join(dir, ackName(7))); !os.IsNotExist(err) {
		t.Fatal("orphan kept")
	}
}

func TestDeliveredHint(t *testing.T) {
	dir := t.TempDir()
	x := openIdx(t, dir, true)
	for i := range 10 {
		if err := x.Delivered(pos(3, i)); err != nil {
			t.Fatal(err)
		}
	}
	x.Close()
	x = openIdx(t, dir, true)
	defer x.Close()
	if !x.Redelivered(pos(3, 9)) || !x.Redelivered(pos(2, 50000)) {
		t.Fatal("delivered position not flagged")
	}
	if x.Redelivered(pos(3, 100000)) || x.Redelivered(pos(4, 0)) {
		t.Fatal("far position flagged")
	}
	if x.NextSegment() != 4 {
		t.Fatalf("next segment %d", x.NextSegment())
	}
	// A torn slot: the other one still answers.
	x.Delivered(pos(9, 0))
	x.Close()
	f, _ := os.OpenFile(filepath.Join(dir, hintName), os.O_RDWR, 0)
	f.WriteAt([]byte{1, 2, 3}, 0)
	f.WriteAt([]byte{1, 2, 3}, hintSlot)
	f.Close()
	x2 := openIdx(t, dir, true)
	defer x2.Close()
	if x2.Redelivered(pos(1, 0)) {
		t.Fatal("garbage hint trusted")
	}
}

func TestNonDurableKeepsNoFiles(t *testing.T) {
	dir := t.TempDir()
	x := openIdx(t, dir, false)
	seed(x, 1, 10)
	for i := range 10 {
		x.Ack(pos(1, i), recSize, 100, true)
		x.Delivered(pos(1, i))
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Fatalf("files: %v", ents)
	}
	x.Close()
}

func TestZeroAllocAck(t *testing.T) {
	for _, durable := range []bool{false, true} {
		x := openIdx(t, t.TempDir(), durable)
		const n = 200000
		seed(x, 1, n)
		i := 0
		x.Ack(pos(1, i), recSize, 100, true)
		i++
		if a := testing.AllocsPerRun(10000, func() {
			x.Ack(pos(1, i), recSize, 100, true)
			x.Delivered(pos(1, i))
			x.Skip(pos(1, i+1))
			i++
		}); a != 0 {
			t.Errorf("durable=%v: %v allocs per ack", durable, a)
		}
		x.Close()
	}
}
