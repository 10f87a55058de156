//go:build linux

package netio_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/segment/smallfs"
)

// TestDiskFullNacks: when the data dir fills up, a confirming publisher gets
// basic.nack for each publish that could not be written (it used to lose
// its connection to a 541 with the outstanding publishes neither acked nor
// nacked); the channel and the connection stay open, a publisher without
// confirms keeps its connection, other connections carry on, and
// publishing resumes by itself once space is freed. Every acked message is
// in the queue, byte for byte.
func TestDiskFullNacks(t *testing.T) {
	needLocal(t)
	mnt := smallfs.Mount(t, 6<<20)
	// Room to free later.
	spare := filepath.Join(mnt, "spare")
	if err := os.WriteFile(spare, make([]byte, 2<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	in := startTestInstance(t, filepath.Join(mnt, "data"))
	// Below the disk alarm's 50 MB from the start: the alarm would block
	// the publisher before the disk fills, and here it must really fill.
	forceAlarm(t, in, broker.AlarmDisk, false)
	conn, err := amqp.Dial(in.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	const q = "disk-full"
	if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var acked [][]byte // in publish order
	seq := 0
	// publishBatch publishes n messages and waits for every confirm; it
	// returns how many were nacked.
	publishBatch := func(n int) (nacked int) {
		t.Helper()
		type pub struct {
			dc   *amqp.DeferredConfirmation
			body []byte
		}
		pubs := make([]pub, 0, n)
		for range n {
			seq++
			body := bytes.Repeat([]byte(fmt.Sprintf("%08d;", seq)), 32<<10/9)
			dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", q, false, false,
				amqp.Publishing{DeliveryMode: amqp.Persistent, Body: body})
			if err != nil {
				t.Fatalf("publish %d: %v", seq, err)
			}
			pubs = append(pubs, pub{dc, body})
		}
		for _, p := range pubs {
			ok, err := p.dc.WaitContext(ctx)
			if err != nil {
				t.Fatalf("publish tag %d got neither ack nor nack: %v", p.dc.DeliveryTag, err)
			}
			if ok {
				acked = append(acked, p.body)
			} else {
				nacked++
			}
		}
		return nacked
	}
	full := false
	for range 40 { // 40 × 10 × 32 KiB: far more than the disk holds
		if publishBatch(10) > 0 {
			full = true
			break
		}
	}
	if !full {
		t.Fatalf("%d publishes to a 6 MiB disk were all acked", seq)
	}
	if n := publishBatch(5); n != 5 {
		t.Fatalf("disk still full: %d of 5 more publishes nacked, want all", n)
	}
	// A publisher without confirms loses its messages but keeps its
	// connection; so does everyone else.
	other, err := amqp.Dial(in.url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	och, err := other.Channel()
	if err != nil {
		t.Fatal(err)
	}
	lost := bytes.Repeat([]byte("lost"), 32<<10/4) // as large: no room for it either
	for range 5 {
		if err := och.PublishWithContext(ctx, "", q, false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: lost}); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := och.QueueDeclarePassive(q, true, false, false, false, nil); err != nil {
		t.Fatalf("connection without confirms after publishing to a full disk: %v", err)
	} else if st.Messages != len(acked) {
		t.Fatalf("queue holds %d messages, %d were acked", st.Messages, len(acked))
	}

	if err := os.Remove(spare); err != nil {
		t.Fatal(err)
	}
	if n := publishBatch(5); n != 0 {
		t.Fatalf("after freeing 2 MiB: %d of 5 publishes nacked, want none", n)
	}
	select {
	case e := <-closed:
		t.Fatalf("connection closed: %v", e)
	default:
	}
	// Every acked message is there, in order, byte for byte.
	for i, want := range acked {
		d, ok, err := och.Get(q, true)
		if err != nil || !ok {
			t.Fatalf("get %d of %d acked: ok=%v err=%v", i, len(acked), ok, err)
		}
		if !bytes.Equal(d.Body, want) {
			t.Fatalf("message %d: %d bytes %.20q..., want %d bytes %.20q...", i, len(d.Body), d.Body, len(want), want)
		}
	}
	if d, ok, _ := och.Get(q, true); ok {
		t.Fatalf("unexpected message after the acked ones: %.20q", d.Body)
	}
}

// TestConfirmNackWhenCommitFails: a persistent publish is confirmed only
// if its write and fdatasync succeeded. When the queue file's write fails
// in the group commit (here: its descriptor is made /dev/full behind the
// broker's back), the publishes waiting on that commit get basic.nack; they
// used to be acked as if on disk. The failed file is then retired: later
// publishes go to a fresh segment and are acked (the file used to be
// refused until a restart), and the queue holds what was acked.
func TestConfirmNackWhenCommitFails(t *testing.T) {
	needLocal(t)
	in, conn, ch := brokenStorageChannel(t)
	dir := in.dir
	const q = "commit-fails"
	if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	confirm := func(body string) bool {
		t.Helper()
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", q, false, false,
			amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte(body)})
		if err != nil {
			t.Fatal(err)
		}
		ok, err := dc.WaitContext(ctx)
		if err != nil {
			t.Fatalf("publish %q: no confirm: %v", body, err)
		}
		return ok
	}
	if !confirm("first") {
		t.Fatal("first publish nacked")
	}
	fd := openSegmentFD(t, dir)
	failSegmentWrites(t, fd)
	if confirm("lost") {
		t.Fatal("publish acked although its write failed")
	}
	for i := range 3 {
		if !confirm(fmt.Sprint("after-", i)) {
			t.Fatalf("publish %d after the failure nacked: the failed segment was not retired", i)
		}
	}
	if ch.IsClosed() || conn.IsClosed() {
		t.Fatal("channel or connection closed")
	}
	for _, want := range []string{"first", "after-0", "after-1", "after-2"} {
		d, ok, err := ch.Get(q, true)
		if err != nil || !ok {
			t.Fatalf("get %q: ok=%v err=%v", want, ok, err)
		}
		if string(d.Body) != want {
			t.Fatalf("got %q, want %q", d.Body, want)
		}
	}
	if d, ok, _ := ch.Get(q, true); ok {
		t.Fatalf("unexpected message %q", d.Body)
	}
}

// brokenStorageChannel starts a private instance for a test that breaks
// its storage on purpose, and opens a channel on it. The instance is
// stopped at cleanup without checking the error: closing fails too, since
// the broken queue file cannot be sealed.
func brokenStorageChannel(t *testing.T) (in *instance, conn *amqp.Connection, ch *amqp.Channel) {
	t.Helper()
	in, err := startInstance(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.stop() })
	if conn, err = amqp.Dial(in.url); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if ch, err = conn.Channel(); err != nil {
		t.Fatal(err)
	}
	return in, conn, ch
}

// openSegmentFD finds the descriptor this process holds on a segment file
// under dir (the in-process broker's head segment).
func openSegmentFD(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot list /proc/self/fd: %v", err)
	}
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil || !strings.HasPrefix(target, dir) || !strings.HasPrefix(filepath.Base(target), "seg.") {
			continue
		}
		fd, err := strconv.Atoi(e.Name())
		if err == nil {
			return fd
		}
	}
	t.Fatalf("no open segment file under %s", dir)
	return -1
}

// blockNewSegments makes the queue whose segment fd is open unable to
// create another segment: the next names are taken by stray files, which
// a log skips only so far.
func blockNewSegments(t *testing.T, fd int) {
	t.Helper()
	target, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil {
		t.Fatal(err)
	}
	var id int
	if _, err := fmt.Sscanf(filepath.Base(target), "seg.%d", &id); err != nil {
		t.Fatal(err)
	}
	for i := id + 1; i <= id+64; i++ {
		if err := os.WriteFile(filepath.Join(filepath.Dir(target), fmt.Sprintf("seg.%010d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestNackKeepsConfirmOrder: a nack for a publish that could not be stored
// waits behind earlier publishes still waiting for the commit, and no
// multiple ack covers it: publish 1 (to a good durable queue) is acked,
// publish 2 (to a queue whose file failed) nacked, publish 3 acked again.
func TestNackKeepsConfirmOrder(t *testing.T) {
	needLocal(t)
	in, _, ch := brokenStorageChannel(t)
	dir := in.dir
	const good, broken = "order-good", "order-broken"
	if _, err := ch.QueueDeclare(broken, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	confirm := func(body string) bool {
		t.Helper()
		dc, err := ch.PublishWithDeferredConfirmWithContext(context.Background(), "", broken, false, false,
			amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte(body)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		ok, err := dc.WaitContext(ctx)
		if err != nil {
			t.Fatalf("publish %q: no confirm: %v", body, err)
		}
		return ok
	}
	if !confirm("x") {
		t.Fatal("first publish nacked")
	}
	fd := openSegmentFD(t, dir)
	blockNewSegments(t, fd)
	failSegmentWrites(t, fd)
	// Its commit fails, and the failed segment is retired at the next
	// append; no fresh one can be made (stray files hold the next names),
	// so from now on the queue takes no appends. (Only publishes stored in
	// this queue are nacked for the failed commit:
	// TestCommitFailureNacksOnlyItsQueue.)
	if confirm("y") {
		t.Fatal("publish acked although its write failed")
	}
	if _, err := ch.QueueDeclare(good, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}

	r := confirmChannel(t, in.addr)
	// All three in one write: the first is still waiting for its commit
	// when the second fails.
	publishPersistentBatch(r, []string{good, broken, good})
	if got, want := readConfirms(t, r, 3), []bool{true, false, true}; !slices.Equal(got, want) {
		t.Fatalf("acked %v, want %v", got, want)
	}
}

// persistentHeader is a basic content header with delivery-mode 2.
func persistentHeader(bodySize uint64) []byte {
	b := binary.BigEndian.AppendUint16(nil, 60)
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint64(b, bodySize)
	b = binary.BigEndian.AppendUint16(b, 1<<12) // delivery-mode
	return append(b, 2)
}
