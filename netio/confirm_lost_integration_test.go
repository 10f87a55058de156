//go:build linux

package netio_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"net"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"golang.org/x/sys/unix"
)

// TestCommitFailureNacksOnlyItsQueue: when one queue's file fails in the
// group commit, only the publishes stored in that queue are nacked; a
// publish to another durable queue whose records shared the round (or the
// window of rounds it waited on) is on disk and gets basic.ack. It used to
// be nacked with the whole generation.
func TestCommitFailureNacksOnlyItsQueue(t *testing.T) {
	needLocal(t)
	in, _, ch := brokenStorageChannel(t)
	const broken, good = "lost-broken", "lost-good"
	for _, q := range []string{broken, good} {
		if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	// A first message gives the broken queue its segment file.
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", broken, false, false,
		amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := dc.WaitContext(ctx); err != nil || !ok {
		t.Fatalf("first publish: ok=%v err=%v", ok, err)
	}
	full, err := unix.Open("/dev/full", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer unix.Close(full)
	if err := unix.Dup2(full, openSegmentFD(t, in.dir)); err != nil {
		t.Fatal(err)
	}

	nc, err := net.DialTimeout("tcp", in.addr, waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(3 * waitTimeout))
	r := &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
	r.handshake(handshakeOpts{})
	r.openChannel(1)
	r.sendMethod(1, 85, 10, bits(false))
	r.expect(1, 85, 11)
	// One write: the publishes to the good queue are stored while the
	// broken queue's commit is under way, so their confirms wait on the
	// generation that fails.
	targets := []string{broken, good, good, good, good}
	var b []byte
	for _, q := range targets {
		b = append(b, rawFrameBytes(1, 1, methodPayload(60, 40, u16(0), shortstr(""), shortstr(q), bits(false, false)))...)
		b = append(b, rawFrameBytes(2, 1, persistentHeader(1))...)
		b = append(b, rawFrameBytes(3, 1, []byte("m"))...)
	}
	r.write(b)
	next := uint64(1)
	for next <= uint64(len(targets)) {
		f := r.next()
		var ack bool
		switch {
		case f.isMethod(60, 80):
			ack = true
		case f.isMethod(60, 120):
		default:
			t.Fatalf("want basic.ack or basic.nack, got %s", f)
		}
		tag, multiple := binary.BigEndian.Uint64(f.payload[4:]), f.payload[12]&1 != 0
		from := tag
		if multiple {
			from = next
		}
		if from != next || tag < next {
			t.Fatalf("confirm of %d (multiple %v) out of order: expected %d next", tag, multiple, next)
		}
		for ; next <= tag; next++ {
			if want := targets[next-1] == good; ack != want {
				t.Fatalf("publish %d to %s: ack=%v, want ack=%v", next, targets[next-1], ack, want)
			}
		}
	}
	ch2, err := amqp.Dial(in.url)
	if err != nil {
		t.Fatal(err)
	}
	defer ch2.Close()
	if got := queueState(t, ch2, good).Messages; got != len(targets)-1 {
		t.Fatalf("%s holds %d messages, want the %d acked", good, got, len(targets)-1)
	}
}
