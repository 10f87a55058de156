//go:build linux

package netio_test

import (
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
	"golang.org/x/sys/unix"
)

// TestTxCommitFailsWhenStorageFails: tx.commit-ok promises what a confirm
// does. When a transaction's publish cannot be written (its queue file
// fails in the group commit, or no longer takes appends) the commit fails
// as RabbitMQ fails a transaction a queue rejected: channel.close 406
// "PRECONDITION_FAILED - partial tx completion". It used to answer
// commit-ok. The connection and other queues carry on.
func TestTxCommitFailsWhenStorageFails(t *testing.T) {
	needLocal(t)
	in, conn, ch := brokenStorageChannel(t)
	const broken, good = "tx-broken", "tx-good"
	for _, q := range []string{broken, good} {
		if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	txPublish := func(q, body string) error {
		t.Helper()
		tch, err := conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		if err := tch.Tx(); err != nil {
			t.Fatal(err)
		}
		if err := tch.Publish("", q, false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
		err = tch.TxCommit()
		if err == nil {
			_ = tch.Close()
		}
		return err
	}
	if err := txPublish(broken, "before"); err != nil {
		t.Fatalf("commit before the fault: %v", err)
	}
	full, err := unix.Open("/dev/full", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer unix.Close(full)
	fd := openSegmentFD(t, in.dir)
	blockNewSegments(t, fd)
	if err := unix.Dup2(full, fd); err != nil {
		t.Fatal(err)
	}
	// First the staged write fails in the group commit; then the failed
	// segment is retired and no fresh one can be made, so the queue
	// refuses appends: both must fail the commit.
	for i, what := range []string{"write fails in the commit", "queue takes no appends"} {
		err := txPublish(broken, what)
		wantCode(t, err, 406, what)
		if !strings.Contains(err.Error(), "partial tx completion") {
			t.Fatalf("%s (%d): %v, want partial tx completion", what, i, err)
		}
	}
	if conn.IsClosed() {
		t.Fatal("connection closed, want only the channels")
	}
	if err := txPublish(good, "elsewhere"); err != nil {
		t.Fatalf("commit to a healthy queue: %v", err)
	}
	if d, ok, err := ch.Get(good, true); err != nil || !ok || string(d.Body) != "elsewhere" {
		t.Fatalf("basic.get %s: %q ok=%v err=%v", good, d.Body, ok, err)
	}
}
