package streamproto

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"
	"time"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame/amqp10"
)

// streamPublisher declares stream name on s with cfg and returns a
// connection in the open state over a pipe with publisher 0 on it.
func streamPublisher(t *testing.T, s *Server, name string, cfg broker.StreamConfig) *conn {
	t.Helper()
	pc := pipeConn(t, s)
	if _, _, err := pc.vhost.DeclareStream(pc.principal, name, cfg); err != nil {
		t.Fatal(err)
	}
	r := reader{b: appendStr(appendStr(append(appendU32(nil, 1), 0), ""), name)}
	pc.declarePublisher(&r)
	return pc
}

// subscribed is a raw client on addr subscribed (id 1) to name from first.
func subscribed(t *testing.T, addr, name string, credit uint16) *rawClient {
	t.Helper()
	c := dialRaw(t, addr)
	if code := c.handshake("guest", "guest", "/"); code != CodeOK {
		t.Fatalf("handshake: %d", code)
	}
	if code := c.call(KeySubscribe, func(b []byte) []byte {
		b = appendStr(append(appendU32(b, 9), 1), name)
		b = binary.BigEndian.AppendUint16(b, OffsetFirst)
		return binary.BigEndian.AppendUint16(b, credit)
	}); code != CodeOK {
		t.Fatalf("subscribe: %d", code)
	}
	return c
}

// Chunks from gatherMin on are gathered from the segment mappings into
// one writev, smaller ones copied into the write buffer: a subscriber
// over TCP gets them all, byte for byte, with the entries' CRC-32, in order, also when one
// wake-up's gathered chunks span segments (64 KiB ones here) that the
// reader has moved off before the write.
func TestDeliverGathered(t *testing.T) {
	s, addr := testServer(t)
	pc := streamPublisher(t, s, "sf", broker.StreamConfig{MaxSegmentSizeBytes: 64 << 10})
	// Chunk sizes around the threshold, bodies that tell them apart.
	sizes := []int{3, 400, 1, 700, 2, 1000, 150, 200, 120, 300, 130, 110}
	var want [][]byte
	seq := uint64(0)
	for ci, n := range sizes {
		f := appendU32(append([]byte(nil), 0), uint32(n))
		for i := range n {
			body := bytes.Repeat([]byte{byte(ci), byte(i)}, 16)
			msg := amqp10.AppendData(nil, body)
			want = append(want, msg)
			seq++
			f = appendU64(f, seq)
			f = append(appendU32(f, uint32(len(msg))), msg...)
		}
		r := reader{b: f}
		pc.publish(&r, 1)
	}
	c := subscribed(t, addr, "sf", 100)
	var got [][]byte
	large := 0
	for len(got) < len(want) {
		k, r, err := c.next()
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", len(got), len(want), err)
		}
		if k != KeyDeliver {
			continue
		}
		r.u8() // subscription id
		h := r.take(ChunkHeaderSize)
		entries := r.b
		if r.bad {
			t.Fatal("short deliver")
		}
		n := int(binary.BigEndian.Uint16(h[2:]))
		if dl := binary.BigEndian.Uint32(h[36:]); int(dl) != len(entries) {
			t.Fatalf("data length %d, %d bytes follow", dl, len(entries))
		}
		if crc := binary.BigEndian.Uint32(h[32:]); crc != crc32.ChecksumIEEE(entries) {
			t.Fatalf("chunk at %d: CRC %08x, entries' %08x", binary.BigEndian.Uint64(h[24:]), crc, crc32.ChecksumIEEE(entries))
		}
		if len(entries) >= gatherMin {
			large++
		}
		er := reader{b: entries}
		for range n {
			got = append(got, er.take(int(er.u32())))
		}
		if er.bad || len(er.b) != 0 {
			t.Fatalf("entries do not parse: %d entries, %d bytes left", n, len(er.b))
		}
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("message %d differs", i)
		}
	}
	var gathered uint64
	s.mu.Lock()
	for sc := range s.conns {
		gathered += sc.gathered.Load()
	}
	s.mu.Unlock()
	if large == 0 || gathered != uint64(large) {
		t.Fatalf("%d chunks of %d B or more, %d written from the mapping", large, gatherMin, gathered)
	}
}

// A client that stops reading blocks the writer in a gathered write (under
// the subscription's lock, which keeps the mappings): its credit frames
// are still taken, the connection's reader does not wait for that write.
func TestCreditWhileWriteBlocked(t *testing.T) {
	s, addr := testServer(t)
	pc := streamPublisher(t, s, "full", broker.StreamConfig{})
	f := publishFrame(1000, 200) // ~210 KB chunks: 64 MB in all
	for range 300 {
		r := reader{b: f}
		pc.publish(&r, 1)
	}
	c := subscribed(t, addr, "full", 1000)
	// Read no more: the socket buffers fill and the writer blocks.
	var sub *subscription
	deadline := time.Now().Add(20 * time.Second)
	for sub == nil || sub.credit.Load() >= 1000 {
		if time.Now().After(deadline) {
			t.Fatal("the writer did not start delivering")
		}
		time.Sleep(20 * time.Millisecond)
		s.mu.Lock()
		for sc := range s.conns {
			sc.mu.Lock()
			if x := sc.subs[1]; x != nil {
				sub = x
			}
			sc.mu.Unlock()
		}
		s.mu.Unlock()
	}
	var before int64
	for stable := 0; stable < 5; { // the credit stops moving: blocked
		if time.Now().After(deadline) {
			t.Fatal("the writer never blocked")
		}
		before = sub.credit.Load()
		time.Sleep(100 * time.Millisecond)
		if sub.credit.Load() == before {
			stable++
		} else {
			stable = 0
		}
	}
	c.send(KeyCredit, func(b []byte) []byte { return binary.BigEndian.AppendUint16(append(b, 1), 7) })
	for sub.credit.Load() != before+7 {
		if time.Now().After(deadline) {
			t.Fatalf("credit %d, want %d: the credit frame waits for the blocked write", sub.credit.Load(), before+7)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
