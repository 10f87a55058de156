package netio

import (
	"bytes"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A burst of fd shortages logs one line, and the next line, an interval
// later, counts every refusal in between.
func TestRefusalsLogOncePerInterval(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(prev)

	var r refusals
	r.note(syscall.EMFILE, 1)
	for range 4 {
		r.note(syscall.EMFILE, 1)
	}
	r.note(syscall.EMFILE, 0) // an accept that could not take one off the backlog
	if n := strings.Count(buf.String(), "out of file descriptors"); n != 1 {
		t.Fatalf("%d log lines for one burst, want 1:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "refused=1 ") {
		t.Fatalf("first line does not count 1 refusal:\n%s", buf.String())
	}
	r.mu.Lock()
	r.last = time.Now().Add(-fdLogInterval)
	r.mu.Unlock()
	buf.Reset()
	r.note(syscall.ENFILE, 1)
	if !strings.Contains(buf.String(), "refused=5 ") {
		t.Fatalf("second line does not count the 5 refusals since the first:\n%s", buf.String())
	}
}

func TestIsFDShortage(t *testing.T) {
	for _, err := range []error{syscall.EMFILE, syscall.ENFILE} {
		if !isFDShortage(err) {
			t.Errorf("%v is not taken for an fd shortage", err)
		}
	}
	if isFDShortage(syscall.ECONNABORTED) {
		t.Error("ECONNABORTED taken for an fd shortage")
	}
}
