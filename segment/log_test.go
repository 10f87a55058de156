package segment

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func openLog(t testing.TB, dir string, o Options) (*Log, []Recovered) {
	t.Helper()
	l, recs, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, recs
}

func body(i, n int) []byte {
	b := bytes.Repeat([]byte{byte('a' + i%26)}, n)
	copy(b, fmt.Sprint(i))
	return b
}

// readAll walks the log with Next from the start and returns the bodies.
func readAll(t testing.TB, l *Log) []string {
	t.Helper()
	var out []string
	p := Pos{}
	for {
		q, r, n, err := l.Next(p)
		if errors.Is(err, ErrEnd) {
			return out
		}
		if err != nil {
			t.Fatalf("next at %v: %v", q, err)
		}
		out = append(out, string(r.Body))
		p = Pos{q.Seg, q.Off + n}
	}
}

func segFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "seg.*"))
	return m
}

func TestAppendReadAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	l, _ := openLog(t, dir, Options{SegmentSize: 4096, Durable: true})
	var pos []Pos
	var want []string
	for i := range 200 {
		r := testRecord(i, body(i, 50+i%40))
		p, n, gen, err := l.Append(r)
		if err != nil {
			t.Fatal(err)
		}
		if int64(n) != RecordSize(r) || gen != 0 {
			t.Fatalf("size %d gen %d", n, gen)
		}
		if i > 0 && !pos[i-1].Less(p) {
			t.Fatalf("positions not increasing: %v then %v", pos[i-1], p)
		}
		pos = append(pos, p)
		want = append(want, string(r.Body))
	}
	if pos[len(pos)-1].Seg < 3 {
		t.Fatalf("expected several segments, last is %v", pos[len(pos)-1])
	}
	for i, p := range pos {
		r, _, err := l.Read(p)
		if err != nil || string(r.Body) != want[i] || r.Timestamp != int64(1700000000000+i) {
			t.Fatalf("read %v: %q %v", p, r.Body, err)
		}
	}
	if l.Mapped() > 1+maxReadMaps {
		t.Fatalf("%d segments mapped", l.Mapped())
	}
	if got := readAll(t, l); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatal("Next order differs")
	}
	// After a clean close every segment has a footer: no spans, no scan.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, recs := openLog(t, dir, Options{SegmentSize: 4096, Durable: true})
	total := 0
	for _, r := range recs {
		if r.Spans != nil {
			t.Fatalf("segment %d was scanned after a clean close", r.ID)
		}
		total += int(r.Live)
	}
	if total != 200 {
		t.Fatalf("recovered %d live records", total)
	}
	if got := readAll(t, l2); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatal("reopened log differs")
	}
	p, _, _, _ := l2.Append(testRecord(0, []byte("x")))
	if p.Seg <= pos[len(pos)-1].Seg {
		t.Fatalf("append after reopen went to old segment %v", p)
	}
}

func TestBigRecordOwnSegment(t *testing.T) {
	dir := t.TempDir()
	l, _ := openLog(t, dir, Options{SegmentSize: 4096, Durable: true})
	small := testRecord(1, []byte("small"))
	p1, _, _, _ := l.Append(small)
	big := testRecord(2, body(2, 20000))
	p2, n, _, err := l.Append(big)
	if err != nil {
		t.Fatal(err)
	}
	if p2.Seg == p1.Seg || p2.Off != DataStart {
		t.Fatalf("big record at %v, small at %v", p2, p1)
	}
	fi, _ := os.Stat(filepath.Join(dir, segName(p2.Seg)))
	if want := int64(DataStart) + int64(n) + footerSize; fi.Size() != want {
		t.Fatalf("big segment is %d bytes, want %d", fi.Size(), want)
	}
	p3, _, _, _ := l.Append(small)
	if p3.Seg == p2.Seg {
		t.Fatal("record after a big one shares its segment")
	}
	r, _, err := l.Read(p2)
	if err != nil || !bytes.Equal(r.Body, big.Body) {
		t.Fatal("big record read back wrong", err)
	}
	if _, _, _, err := l.Append(&Record{Body: make([]byte, 1), Exchange: make([]byte, 256)}); err != ErrTooLarge {
		t.Fatalf("long exchange name: %v", err)
	}
}

func TestRemoveDeletesFile(t *testing.T) {
	dir := t.TempDir()
	l, _ := openLog(t, dir, Options{SegmentSize: 4096, Durable: true})
	var first Pos
	for i := range 100 {
		p, _, _, _ := l.Append(testRecord(i, body(i, 100)))
		if i == 0 {
			first = p
		}
	}
	before := len(segFiles(t, dir))
	if _, _, err := l.Read(first); err != nil {
		t.Fatal(err)
	}
	if err := l.Remove(first.Seg); err != nil {
		t.Fatal(err)
	}
	if len(segFiles(t, dir)) != before-1 {
		t.Fatal("file not deleted")
	}
	if _, _, err := l.Read(first); err != ErrNoSegment {
		t.Fatalf("read of removed segment: %v", err)
	}
	// Next skips a removed segment.
	q, _, _, err := l.Next(first)
	if err != nil || q.Seg == first.Seg {
		t.Fatalf("next after removal: %v %v", q, err)
	}
	// Removing the head: the next append opens a new one.
	id, _, _ := l.Head()
	if err := l.Remove(id); err != nil {
		t.Fatal(err)
	}
	p, _, _, err := l.Append(testRecord(1, []byte("again")))
	if err != nil || p.Seg <= id {
		t.Fatalf("append after removing head: %v %v", p, err)
	}
}

// TestNonDurableStartsEmpty: a non-durable log's segments are real files
// (so that their descriptors can be closed and reopened), and Open deletes
// whatever a previous run left.
func TestNonDurableStartsEmpty(t *testing.T) {
	dir := t.TempDir()
	l, _ := openLog(t, dir, Options{SegmentSize: 4096})
	var ps []Pos
	for i := range 100 {
		p, _, gen, err := l.Append(testRecord(i, body(i, 100)))
		if err != nil || gen != 0 {
			t.Fatal(err, gen)
		}
		ps = append(ps, p)
	}
	for i, p := range ps {
		if r, _, err := l.Read(p); err != nil || !bytes.Equal(r.Body, body(i, 100)) {
			t.Fatal("read", p, err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_, recs := openLog(t, dir, Options{SegmentSize: 4096})
	if len(recs) != 0 {
		t.Fatal("non-durable log recovered something")
	}
	if n := len(segFiles(t, dir)); n != 0 {
		t.Fatalf("%d files left after reopening a non-durable log", n)
	}
}
