package segment

import (
	"bytes"
	"fmt"
	"os"
	"testing"
)

// segFile reads the bytes of segment id's file.
func segFile(t *testing.T, l *Log, id uint32) []byte {
	t.Helper()
	b, err := os.ReadFile(l.path(id))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A reader that keeps up with a non-durable log: the records it is done
// with never reach the file, and the ones it has not read do (without
// checksums: see decodeCRC).
func TestDiscardedRecordsNeverWritten(t *testing.T) {
	l, _ := openLog(t, t.TempDir(), Options{})
	const n, size = 300, 1000 // ~300 KiB: the 32 KiB buffer fills many times
	var pos []Pos
	for i := range n {
		p, sz, _, err := l.Append(testRecord(i, body(i, size)))
		if err != nil {
			t.Fatal(err)
		}
		pos = append(pos, p)
		if i < n-10 {
			l.Discard(Pos{Seg: p.Seg, Off: p.Off + sz}) // read and done
		}
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	file := segFile(t, l, pos[0].Seg)
	for i, p := range pos {
		rec := file[p.Off : p.Off+HeaderSize]
		if i < n-10-100 && !bytes.Equal(rec, make([]byte, HeaderSize)) {
			// (The last ~32 KiB discarded may have gone out with the
			// flush of the records after them.)
			t.Fatalf("record %d (discarded) was written: % x", i, rec)
		}
		if i >= n-10 {
			r, _, err := decodeCRC(file[p.Off:], false)
			if err != nil || !bytes.Equal(r.Body, body(i, size)) {
				t.Fatalf("record %d (unread) in the file: %v", i, err)
			}
		}
	}
	for i := n - 10; i < n; i++ {
		r, _, err := l.Read(pos[i])
		if err != nil || !bytes.Equal(r.Body, body(i, size)) {
			t.Fatalf("Read %d: %v", i, err)
		}
	}
}

// A durable log keeps every record for recovery: Discard changes nothing.
func TestDiscardIgnoredByDurableLog(t *testing.T) {
	dir := t.TempDir()
	l, _ := openLog(t, dir, Options{Durable: true})
	for i := range 100 {
		p, sz, _, err := l.Append(testRecord(i, body(i, 1000)))
		if err != nil {
			t.Fatal(err)
		}
		l.Discard(Pos{Seg: p.Seg, Off: p.Off + sz})
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, _ := openLog(t, dir, Options{Durable: true})
	got := readAll(t, l2)
	if len(got) != 100 || got[99] != string(body(99, 1000)) {
		t.Fatalf("recovered %d records", len(got))
	}
}

// A reader that lags by more than half the buffer: the buffer grows
// (within hotBudget) rather than writing, every record stays readable in
// order, and the budget comes back when the head is sealed.
func TestDiscardLaggingReader(t *testing.T) {
	before := hotBudget.Load()
	l, _ := openLog(t, t.TempDir(), Options{SegmentSize: 4 << 20})
	const n, size, lag = 2000, 1000, 100 // up to ~100 KiB behind the writer
	cur := Pos{}
	read := 0
	for i := range n {
		if _, _, _, err := l.Append(testRecord(i, body(i, size))); err != nil {
			t.Fatal(err)
		}
		// Falling behind gradually: one record read for every other
		// appended, until lag behind.
		want := max(i/2, i-lag)
		for read < want {
			q, r, sz, err := l.Next(cur)
			if err != nil {
				t.Fatalf("Next %d at %v: %v", read, cur, err)
			}
			if !bytes.Equal(r.Body, body(read, size)) {
				t.Fatalf("record %d: body %q", read, r.Body[:8])
			}
			cur = Pos{Seg: q.Seg, Off: q.Off + sz}
			l.Discard(cur)
			read++
		}
	}
	// Nothing the reader was done with went to the file.
	file := segFile(t, l, 1)
	if end := int(l.w.base); !bytes.Equal(file[DataStart:end], make([]byte, end-DataStart)) {
		t.Fatalf("bytes before the buffer (%d) were written", end)
	}
	if c := cap(l.w.b); c <= maxWbuf || c > maxHotWbuf {
		t.Fatalf("buffer %d bytes: want more than %d, at most %d", c, maxWbuf, maxHotWbuf)
	}
	if got := hotBudget.Load() - before; got <= 0 || got > maxHotWbuf-maxWbuf {
		t.Fatalf("budget taken %d", got)
	}
	// What is left reads back after the head is sealed, checksums checked.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := hotBudget.Load() - before; got != 0 {
		t.Fatalf("budget held after Close: %d", got)
	}
}

// A reader 80 records behind across 64 KiB segments: what it is done with
// is dropped from the head, and every record it has not read yet comes
// back in order, from sealed segments (checksums checked) and the head.
func TestDiscardAcrossSeals(t *testing.T) {
	l, _ := openLog(t, t.TempDir(), Options{SegmentSize: 64 << 10})
	const n, size, lag = 400, 1000, 80
	cur := Pos{}
	read := 0
	next := func() {
		t.Helper()
		q, r, sz, err := l.Next(cur)
		if err != nil || !bytes.Equal(r.Body, body(read, size)) {
			t.Fatalf("record %d at %v: %v", read, cur, err)
		}
		cur = Pos{Seg: q.Seg, Off: q.Off + sz}
		l.Discard(cur)
		read++
	}
	for i := range n {
		if _, _, _, err := l.Append(testRecord(i, body(i, size))); err != nil {
			t.Fatal(err)
		}
		for read < i-lag {
			next()
		}
	}
	for read < n {
		next()
	}
}

// BenchmarkAppendDiscard: a non-durable log whose reader keeps up (each
// record done as soon as it is appended): nothing reaches the file.
// Against BenchmarkAppend/mem, which writes every record.
func BenchmarkAppendDiscard(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			l, _ := openLog(b, b.TempDir(), Options{})
			r := testRecord(1, body(1, size))
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				p, n, _, err := l.Append(r)
				if err != nil {
					b.Fatal(err)
				}
				l.Discard(Pos{Seg: p.Seg, Off: p.Off + n})
			}
			reportRecords(b)
		})
	}
}

// A non-durable log writes no checksums (see decodeCRC), yet its sealed
// segments read back whole, by Next, Read and Rescan.
func TestNonDurableNoChecksums(t *testing.T) {
	l, _ := openLog(t, t.TempDir(), Options{SegmentSize: 64 << 10})
	const n, size = 200, 1000 // ~200 KiB: three segments or more
	var pos []Pos
	for i := range n {
		p, _, _, err := l.Append(testRecord(i, body(i, size)))
		if err != nil {
			t.Fatal(err)
		}
		pos = append(pos, p)
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if pos[n-1].Seg == pos[0].Seg {
		t.Fatal("one segment: nothing was sealed")
	}
	file := segFile(t, l, pos[0].Seg)
	if crc := file[pos[0].Off+4 : pos[0].Off+8]; !bytes.Equal(crc, make([]byte, 4)) {
		t.Fatalf("record 0 written with a checksum: % x", crc)
	}
	got := readAll(t, l)
	if len(got) != n {
		t.Fatalf("Next read %d records, want %d", len(got), n)
	}
	for i, b := range got {
		if b != string(body(i, size)) {
			t.Fatalf("record %d: wrong body", i)
		}
	}
	if r, _, err := l.Read(pos[0]); err != nil || !bytes.Equal(r.Body, body(0, size)) {
		t.Fatalf("Read 0: %v", err)
	}
	rec, err := l.Rescan(pos[0].Seg)
	if err != nil {
		t.Fatal(err)
	}
	var live uint32
	for _, p := range pos {
		if p.Seg == pos[0].Seg {
			live++
		}
	}
	if rec.Live != live {
		t.Fatalf("Rescan found %d live records, want %d", rec.Live, live)
	}
}

// A record too big for the staging buffer goes to the file on its own
// (writeRecord); in a non-durable log it too carries no checksum and reads
// back whole.
func TestNonDurableDirectRecordNoChecksum(t *testing.T) {
	l, _ := openLog(t, t.TempDir(), Options{SegmentSize: 4 << 20})
	big := body(1, 2*maxWbuf)
	p, _, _, err := l.Append(testRecord(1, big))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	file := segFile(t, l, p.Seg)
	if crc := file[p.Off+4 : p.Off+8]; !bytes.Equal(crc, make([]byte, 4)) {
		t.Fatalf("direct record written with a checksum: % x", crc)
	}
	if r, _, err := l.Read(p); err != nil || !bytes.Equal(r.Body, big) {
		t.Fatalf("Read: %v", err)
	}
}
