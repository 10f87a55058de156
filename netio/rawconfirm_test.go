//go:build linux

package netio_test

import (
	"bufio"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// failSegmentWrites makes fd (a segment the in-process broker holds open)
// /dev/full behind the broker's back: its next write fails with ENOSPC.
func failSegmentWrites(t *testing.T, fd int) {
	t.Helper()
	full, err := unix.Open("/dev/full", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer unix.Close(full)
	if err := unix.Dup2(full, fd); err != nil {
		t.Fatal(err)
	}
}

// confirmChannel dials addr, opens channel 1 in confirm mode and returns
// the raw connection: the tests that need several publishes in one write
// (so that they share a group commit) send frames themselves.
func confirmChannel(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(3 * waitTimeout))
	r := &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
	r.handshake(handshakeOpts{})
	r.openChannel(1)
	r.sendMethod(1, 85, 10, bits(false))
	r.expect(1, 85, 11)
	return r
}

// publishPersistentBatch sends one persistent 1-byte publish per queue on
// channel 1, all in one write.
func publishPersistentBatch(r *rawConn, queues []string) {
	var b []byte
	for _, q := range queues {
		b = append(b, rawFrameBytes(1, 1, methodPayload(60, 40, u16(0), shortstr(""), shortstr(q), bits(false, false)))...)
		b = append(b, rawFrameBytes(2, 1, persistentHeader(1))...)
		b = append(b, rawFrameBytes(3, 1, []byte("m"))...)
	}
	r.write(b)
}

// readConfirms reads the confirms of publishes 1..n and returns, per
// delivery tag (index tag-1), whether it was acked. Confirms must come in
// order, each tag exactly once, single or multiple.
func readConfirms(t *testing.T, r *rawConn, n int) []bool {
	t.Helper()
	acked := make([]bool, n)
	next := uint64(1)
	for next <= uint64(n) {
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
		if from != next || tag < next || tag > uint64(n) {
			t.Fatalf("confirm of %d (multiple %v) out of order: expected %d next", tag, multiple, next)
		}
		for ; next <= tag; next++ {
			acked[next-1] = ack
		}
	}
	return acked
}
