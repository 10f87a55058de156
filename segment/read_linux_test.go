//go:build linux

package segment

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// mappedRSS is the resident size of this process's mappings of path,
// from /proc/self/smaps.
func mappedRSS(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip("no /proc/self/smaps:", err)
	}
	defer f.Close()
	var total int64
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = len(fields) >= 6 && fields[len(fields)-1] == path
			continue
		}
		if in && len(fields) == 3 && fields[0] == "Rss:" {
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			total += kb << 10
		}
	}
	return total
}

// A reader going through a segment releases the mapping's pages it has
// passed: reading 6 MiB through the mapping leaves well under 1 MiB of it
// resident. Issue 19: 32 queues reading their backlogs through their head
// segments held 50 MB of the broker's RSS.
func TestNextReleasesPagesBehindReader(t *testing.T) {
	dir := t.TempDir()
	l, _ := openLog(t, dir, Options{SegmentSize: 8 << 20})
	for i := range 6 << 10 { // 6 MiB of 1 KiB records
		if _, _, _, err := l.Append(testRecord(i, body(i, 1000))); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, l)
	if len(got) != 6<<10 {
		t.Fatalf("read %d records, want %d", len(got), 6<<10)
	}
	files := segFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("%d segment files, want 1", len(files))
	}
	rss := mappedRSS(t, files[0])
	t.Logf("segment mapping resident after reading 6 MiB: %d KiB", rss>>10)
	if rss > 1<<20 {
		t.Fatalf("%d KiB of the segment's mapping still resident after the reader passed it", rss>>10)
	}
	// What was released reads back the same (a requeued message).
	p := Pos{}
	q, r, _, err := l.Next(p)
	if err != nil || string(r.Body) != got[0] || q.Off != DataStart {
		t.Fatalf("first record again: %v %q", err, r.Body)
	}
}
