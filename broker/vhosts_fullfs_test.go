package broker

import (
	"path/filepath"
	"testing"

	"github.com/warrenmq/warren/segment/smallfs"
)

// A broker restarts on a full disk: opening the stored vhosts and users
// writes nothing (it used to rewrite definitions.json at every start, and
// the start failed with "cannot store definitions" until space was freed).
func TestOpenOnFullDisk(t *testing.T) {
	mnt := smallfs.Mount(t, 2<<20)
	dir := filepath.Join(mnt, "data")
	b, err := Open(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := b.VHost("/")
	if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "kept", Durable: true}); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	smallfs.Fill(t, filepath.Join(mnt, "filler"))
	b, err = Open(Config{DataDir: dir})
	if err != nil {
		t.Fatalf("restart on a full disk: %v", err)
	}
	defer b.Close()
	v, _ = b.VHost("/")
	if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "kept", Passive: true}); err != nil {
		t.Fatalf("queue after restart: %v", err)
	}
}
