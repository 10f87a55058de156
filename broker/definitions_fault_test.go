package broker

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/warrenmq/warren/frame"
)

// mountTinyTmpfs mounts a 1 MiB tmpfs for the test, or skips it.
func mountTinyTmpfs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fillDisk writes a file until the file system is full and returns its
// path; removing it frees the space.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return path
		}
	}
}

func isCode(err error, code uint16) bool {
	var fe *frame.Error
	return errors.As(err, &fe) && fe.Code == code
}

// With the disk full, a durable declare or bind that cannot be written to
// the definitions fails with 541 and leaves nothing behind in memory;
// every one that succeeded survives a restart. Before, the client got
// declare-ok and the queue was gone after the restart.
func TestDefinitionsWriteFailureRollsBack(t *testing.T) {
	must := mustOK(t)
	dir := mountTinyTmpfs(t)
	b, err := Open(Config{DataDir: filepath.Join(dir, "data")})
	must(err)
	t.Cleanup(func() { b.Close() })
	v, _ := b.VHost("/")
	must(v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "x", Type: "fanout", Durable: true}))
	_, err = v.QueueDeclare(guest, QueueDeclareOptions{Name: "bound-later", Durable: true})
	must(err)
	filler := fillDisk(t, dir)

	// A journal record may still fit in the file's last page: declare
	// until one fails.
	var ok []string
	failed := ""
	for i := range 1000 {
		name := fmt.Sprintf("q%d", i)
		_, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: name, Durable: true})
		if err == nil {
			ok = append(ok, name)
			continue
		}
		if !isCode(err, frame.InternalError) {
			t.Fatalf("declare on a full disk: %v, want a 541 error", err)
		}
		failed = name
		break
	}
	if failed == "" {
		t.Fatal("1,000 durable declares on a full disk all succeeded")
	}
	if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: failed, Passive: true}); !isCode(err, frame.NotFound) {
		t.Fatalf("queue whose declare failed: passive declare says %v, want 404", err)
	}
	if err := v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "x2", Type: "direct", Durable: true}); !isCode(err, frame.InternalError) {
		t.Fatalf("exchange declare on a full disk: %v, want 541", err)
	}
	if _, ok := v.Exchange("x2"); ok {
		t.Fatal("exchange whose declare failed is still there")
	}
	if err := v.QueueBind(guest, Binding{Source: "x", Destination: "bound-later"}, 0); !isCode(err, frame.InternalError) {
		t.Fatalf("bind on a full disk: %v, want 541", err)
	}
	if n := routed(t, v, "x", ""); n != 0 {
		t.Fatalf("binding whose write failed routes to %d queues", n)
	}

	// Space comes back: changes work again and everything that was
	// acknowledged is there after a restart, nothing that failed.
	must(os.Remove(filler))
	_, err = v.QueueDeclare(guest, QueueDeclareOptions{Name: "after", Durable: true})
	must(err)
	b = reopen(t, b)
	v, _ = b.VHost("/")
	for _, name := range append(ok, "after", "bound-later") {
		if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: name, Passive: true}); err != nil {
			t.Fatalf("queue %q declared ok is gone after restart: %v", name, err)
		}
	}
	if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: failed, Passive: true}); err == nil {
		t.Fatalf("queue %q whose declare failed exists after restart", failed)
	}
	if _, ok := v.Exchange("x2"); ok {
		t.Fatal("exchange whose declare failed exists after restart")
	}
}
