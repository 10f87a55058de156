package netio_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// Publishes whose frames arrive cut at every kind of place (inside the
// 7-byte frame header, inside a payload, at the frame end octet), one
// piece per read, all arrive, whole and in order: the connection keeps a
// frame split between reads itself (carry.go), including frames larger
// than it keeps, which stay with gnet.
func TestPublishFramesSplitAcrossReads(t *testing.T) {
	t.Parallel()
	c := dial(t)
	ch := channel(t, c)
	q := declareQueue(t, ch, "split")
	ds := consume(t, ch, q, "", true)

	r := dialRaw(t)
	r.open()
	var stream []byte
	var want [][]byte
	rng := rand.New(rand.NewPCG(19, 1))
	for i := range 200 {
		size := []int{0, 1, 100, 1000, 5000, 20000, 40000}[i%7]
		body := bytes.Repeat([]byte{byte('a' + i%26)}, size)
		copy(body, fmt.Sprint(i))
		want = append(want, body)
		stream = append(stream, rawFrameBytes(1, 1, methodPayload(60, 40, u16(0), shortstr(""), shortstr(q), bits(false, false)))...)
		stream = append(stream, rawFrameBytes(2, 1, contentHeader(uint64(size)))...)
		if size > 0 {
			stream = append(stream, rawFrameBytes(3, 1, body)...)
		}
	}
	for len(stream) > 0 {
		k := min(len(stream), 1+rng.IntN(3000))
		if rng.IntN(4) == 0 {
			k = min(len(stream), 1+rng.IntN(8)) // a few bytes: a header in pieces
		}
		r.write(stream[:k])
		stream = stream[k:]
		time.Sleep(50 * time.Microsecond) // separate reads, mostly
	}
	for i, w := range want {
		d := recv(t, ds)
		if !bytes.Equal(d.Body, w) {
			t.Fatalf("message %d: %d bytes %.20q, want %d bytes %.20q", i, len(d.Body), d.Body, len(w), w)
		}
	}
}

// A frame header that declares more than frame_max and arrives in pieces
// is refused as soon as the header is whole (501), as in one piece: the
// connection does not gather the payload it announced first.
func TestFrameTooLargeHeaderSplitAcrossReads(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.handshake(handshakeOpts{frameMax: 4096})
	r.openChannel(1)
	h := []byte{3, 0, 1, 0x40, 0, 0, 0} // a body frame of 1 GiB on channel 1
	r.write(h[:3])
	time.Sleep(20 * time.Millisecond) // a read of its own
	r.write(h[3:])
	r.expectConnectionClose(501)
}
