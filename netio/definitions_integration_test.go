package netio_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// TestDeclareOnFullDisk: with the disk full, the client whose durable
// declare cannot be stored gets a 541 connection error instead of
// declare-ok, the queue does not exist, and every queue that got
// declare-ok survives a restart once space is back.
func TestDeclareOnFullDisk(t *testing.T) {
	needLocal(t)
	root := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", root).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", root).Run() })
	dir := filepath.Join(root, "data")
	in := startTestInstance(t, dir)
	_, ch := dialInstance(t, in)
	if _, err := ch.QueueDeclare("first", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(root, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for buf := make([]byte, 4096); ; {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()

	ok := []string{"first"}
	var amqpErr *amqp.Error
	for i := 0; amqpErr == nil; i++ {
		if i == 1000 {
			t.Fatal("1,000 durable declares on a full disk all got declare-ok")
		}
		name := fmt.Sprintf("q%d", i)
		if _, err := ch.QueueDeclare(name, true, false, false, false, nil); err != nil {
			if !errors.As(err, &amqpErr) || amqpErr.Code != amqp.InternalError {
				t.Fatalf("declare on a full disk: %v, want 541 INTERNAL_ERROR", err)
			}
			t.Logf("declare %s: %v", name, err)
			_, ch2 := dialInstance(t, in)
			if _, err := ch2.QueueDeclarePassive(name, true, false, false, false, nil); err == nil {
				t.Fatalf("queue %s exists though its declare failed", name)
			}
			break
		}
		ok = append(ok, name)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	in = startTestInstance(t, dir)
	_, ch = dialInstance(t, in)
	for _, name := range ok {
		if _, err := ch.QueueDeclarePassive(name, true, false, false, false, nil); err != nil {
			t.Fatalf("queue %s got declare-ok but is gone after a restart: %v", name, err)
		}
	}
}
