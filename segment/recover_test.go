package segment

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// logBuf collects slog output so tests can check what recovery reported.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *logBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *logBuf) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func quietLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// fill appends n records of body size sz and returns positions and bodies.
func fill(t *testing.T, l *Log, n, sz int, flags func(int) uint8) ([]Pos, []string) {
	t.Helper()
	var ps []Pos
	var bs []string
	for i := range n {
		r := testRecord(i, body(i, sz))
		if flags != nil {
			r.Flags = flags(i)
		}
		p, _, _, err := l.Append(r)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
		bs = append(bs, string(r.Body))
	}
	return ps, bs
}

func patch(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func TestCrashRecoversEverything(t *testing.T) {
	dir := t.TempDir()
	l, _ := openLog(t, dir, Options{SegmentSize: 8192, Durable: true})
	_, want := fill(t, l, 150, 100, nil)
	l.Flush()
	l.crash()
	l2, recs := openLog(t, dir, Options{SegmentSize: 8192, Durable: true})
	scanned := 0
	for _, r := range recs {
		if r.Spans != nil {
			scanned++
		}
	}
	if scanned != 1 {
		t.Fatalf("%d segments scanned; only the unsealed head should be", scanned)
	}
	if got := readAll(t, l2); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("recovered %d of %d", len(got), len(want))
	}
	// The head got sealed by recovery: a second open scans nothing.
	l2.Close()
	_, recs = openLog(t, dir, Options{SegmentSize: 8192, Durable: true})
	for _, r := range recs {
		if r.Spans != nil {
			t.Fatal("segment scanned twice")
		}
	}
}

func TestCrashTornTail(t *testing.T) {
	for _, cut := range []int{1, 5, 9, 30, 100} {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			dir := t.TempDir()
			var logs logBuf
			o := Options{SegmentSize: 1 << 20, Durable: true, Logger: quietLogger(&logs)}
			l, _ := openLog(t, dir, o)
			ps, want := fill(t, l, 20, 100, nil)
			l.Flush()
			l.crash()
			// Garble the last record from byte `cut` on, as a torn write
			// leaves it: part written, the rest still zeros or junk.
			last := ps[len(ps)-1]
			path := filepath.Join(dir, segName(last.Seg))
			patch(t, path, int64(last.Off)+int64(cut), bytes.Repeat([]byte{0xAB}, 3))
			l2, _ := openLog(t, dir, o)
			got := readAll(t, l2)
			if fmt.Sprint(got) != fmt.Sprint(want[:len(want)-1]) {
				t.Fatalf("got %d records, want %d", len(got), len(want)-1)
			}
			if !strings.Contains(logs.String(), "torn tail") {
				t.Fatalf("torn tail not logged: %s", logs.String())
			}
			// New appends land after the cut and read back fine.
			p, _, _, err := l2.Append(testRecord(99, []byte("after")))
			if err != nil {
				t.Fatal(err)
			}
			if r, _, err := l2.Read(p); err != nil || string(r.Body) != "after" {
				t.Fatal(err)
			}
		})
	}
}

func TestCrashTruncatedFile(t *testing.T) {
	dir := t.TempDir()
	o := Options{SegmentSize: 1 << 20, Durable: true, Logger: quietLogger(io.Discard)}
	l, _ := openLog(t, dir, o)
	ps, want := fill(t, l, 20, 100, nil)
	l.Flush()
	l.crash()
	last := ps[len(ps)-1]
	if err := os.Truncate(filepath.Join(dir, segName(last.Seg)), int64(last.Off)+40); err != nil {
		t.Fatal(err)
	}
	l2, _ := openLog(t, dir, o)
	if got := readAll(t, l2); fmt.Sprint(got) != fmt.Sprint(want[:19]) {
		t.Fatalf("got %d records", len(got))
	}
}

func TestCrashCorruptMiddleOfUnsealed(t *testing.T) {
	for _, what := range []string{"body", "length", "zeroed-length"} {
		t.Run(what, func(t *testing.T) {
			dir := t.TempDir()
			var logs logBuf
			o := Options{SegmentSize: 1 << 20, Durable: true, Logger: quietLogger(&logs)}
			l, _ := openLog(t, dir, o)
			ps, want := fill(t, l, 30, 100, nil)
			l.Flush()
			l.crash()
			bad := ps[10]
			path := filepath.Join(dir, segName(bad.Seg))
			switch what {
			case "body":
				patch(t, path, int64(bad.Off)+60, []byte{0xFF})
			case "length":
				patch(t, path, int64(bad.Off), []byte{0x10, 0x27})
			case "zeroed-length":
				patch(t, path, int64(bad.Off), []byte{0, 0, 0, 0})
			}
			l2, recs := openLog(t, dir, o)
			wantLeft := append(append([]string(nil), want[:10]...), want[11:]...)
			if got := readAll(t, l2); fmt.Sprint(got) != fmt.Sprint(wantLeft) {
				t.Fatalf("got %d records, want %d", len(got), len(wantLeft))
			}
			if recs[0].Live != 29 {
				t.Fatalf("live %d", recs[0].Live)
			}
			if !strings.Contains(logs.String(), "skipping corrupt record") {
				t.Fatalf("not logged: %s", logs.String())
			}
			// Reading the bad position itself is an error, never half a message.
			if _, _, err := l2.Read(bad); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("read of padded record: %v", err)
			}
		})
	}
}

// Damage inside a sealed segment is not seen at Open (the footer is
// trusted); Next reports it, Rescan repairs and recounts, Next goes on.
func TestCorruptSealedFoundOnRead(t *testing.T) {
	dir := t.TempDir()
	var logs logBuf
	o := Options{SegmentSize: 8192, Durable: true, Logger: quietLogger(&logs)}
	l, _ := openLog(t, dir, o)
	ps, want := fill(t, l, 100, 100, nil)
	l.Close()
	bad := ps[5]
	patch(t, filepath.Join(dir, segName(bad.Seg)), int64(bad.Off)+50, []byte{0x00, 0x01})
	l2, recs := openLog(t, dir, o)
	if recs[0].Spans != nil || recs[0].Live == 0 {
		t.Fatal("sealed segment should be trusted at open")
	}
	var got []string
	rescans := 0
	for p := (Pos{}); ; {
		q, r, n, err := l2.Next(p)
		if errors.Is(err, ErrEnd) {
			break
		}
		var ce *CorruptError
		if errors.As(err, &ce) {
			rescans++
			rec, err := l2.Rescan(ce.Pos.Seg)
			if err != nil || rec.Live != recs[0].Live-1 || rec.Spans == nil {
				t.Fatalf("rescan: %+v %v", rec.Live, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(r.Body))
		p = Pos{q.Seg, q.Off + n}
	}
	wantLeft := append(append([]string(nil), want[:5]...), want[6:]...)
	if rescans != 1 || fmt.Sprint(got) != fmt.Sprint(wantLeft) {
		t.Fatalf("rescans %d, got %d records", rescans, len(got))
	}
	// The repair is on disk: the footer now has the new count.
	l2.Close()
	_, recs = openLog(t, dir, o)
	n := 0
	for _, r := range recs {
		n += int(r.Live)
	}
	if n != 99 {
		t.Fatalf("after repair %d live records on disk", n)
	}
}

func TestCorruptFooterFallsBackToScan(t *testing.T) {
	dir := t.TempDir()
	o := Options{SegmentSize: 8192, Durable: true, Logger: quietLogger(io.Discard)}
	l, _ := openLog(t, dir, o)
	_, want := fill(t, l, 100, 100, nil)
	l.Close()
	path := segFiles(t, dir)[0]
	fi, _ := os.Stat(path)
	patch(t, path, fi.Size()-10, []byte{0x55})
	l2, recs := openLog(t, dir, o)
	if recs[0].Spans == nil {
		t.Fatal("bad footer trusted")
	}
	if got := readAll(t, l2); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %d records", len(got))
	}
}

func TestTransientDroppedOnReopen(t *testing.T) {
	dir := t.TempDir()
	o := Options{SegmentSize: 4096, Durable: true}
	l, _ := openLog(t, dir, o)
	_, all := fill(t, l, 60, 100, func(i int) uint8 {
		if i%3 == 0 {
			return 0
		}
		return FlagPersistent
	})
	var want []string
	for i, b := range all {
		if i%3 != 0 {
			want = append(want, b)
		}
	}
	if got := readAll(t, l); len(got) != 60 {
		t.Fatalf("live log hides transient records: %d", len(got))
	}
	l.Flush()
	l.crash() // half the segments sealed (footer path), the head scanned
	l2, recs := openLog(t, dir, o)
	live := 0
	for _, r := range recs {
		live += int(r.Live)
	}
	if live != 40 {
		t.Fatalf("live %d", live)
	}
	if got := readAll(t, l2); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %d records", len(got))
	}
}

func TestShortAndForeignFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, segName(3)), []byte("junk"), 0o644)
	os.WriteFile(filepath.Join(dir, segName(4)), make([]byte, 4096), 0o644)
	os.WriteFile(filepath.Join(dir, "README"), []byte("not ours"), 0o644)
	o := Options{SegmentSize: 4096, Durable: true, Logger: quietLogger(io.Discard)}
	l, recs := openLog(t, dir, o)
	if len(recs) != 0 {
		t.Fatalf("recovered %v", recs)
	}
	p, _, _, err := l.Append(testRecord(1, []byte("x")))
	if err != nil || p.Seg != 5 {
		t.Fatalf("append: %v %v", p, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "README")); err != nil {
		t.Fatal("foreign file removed")
	}
}

// A footer from a segment that was sealed but never trimmed (crash between
// the two) sits inside the file, not at its end, and must not be trusted.
func TestFooterNotAtEnd(t *testing.T) {
	dir := t.TempDir()
	o := Options{SegmentSize: 8192, Durable: true, Logger: quietLogger(io.Discard)}
	l, _ := openLog(t, dir, o)
	_, want := fill(t, l, 10, 100, nil)
	l.Close()
	path := segFiles(t, dir)[0]
	if err := os.Truncate(path, 8192); err != nil {
		t.Fatal(err)
	}
	l2, recs := openLog(t, dir, o)
	if recs[0].Spans == nil {
		t.Fatal("footer trusted")
	}
	if got := readAll(t, l2); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %d", len(got))
	}
}
