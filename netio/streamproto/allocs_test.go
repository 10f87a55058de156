package streamproto

import (
	"net"
	"testing"
	"time"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame/amqp10"
)

// openConn is a connection in the open state over a pipe, for driving
// commands directly.
func openConn(t testing.TB) *conn {
	t.Helper()
	s, _ := testServer(t)
	c := pipeConn(t, s)
	if _, _, err := c.vhost.DeclareStream(c.principal, "alloc", broker.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	return c
}

// pipeConn is a connection of s in the open state (guest on "/") over a
// pipe: commands are driven by calling its methods.
func pipeConn(t testing.TB, s *Server) *conn {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	c := newConn(s, a)
	p, err := s.b.Users().Authenticate("guest", "guest", true)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := s.b.VHost("/")
	c.principal, c.vhost, c.state = p, v, stOpen
	p.VHost = "/"
	return c
}

func publishFrame(n, size int) []byte {
	msg := amqp10.AppendData(nil, make([]byte, size))
	b := appendU32(append([]byte(nil), 0), uint32(n))
	for i := range n {
		b = appendU64(b, uint64(i+1))
		b = append(appendU32(b, uint32(len(msg))), msg...)
	}
	return b
}

// A publish frame (parse, chunk build, append, confirm queued) allocates
// nothing in steady state.
func TestPublishAllocs(t *testing.T) {
	c := openConn(t)
	r := reader{b: appendStr(appendStr(append(appendU32(nil, 1), 0), ""), "alloc")}
	c.declarePublisher(&r)
	f := publishFrame(100, 16)
	run := func() {
		r := reader{b: f}
		c.publish(&r, 1)
		c.mu.Lock()
		c.confirms, c.confIDs, c.out = c.confirms[:0], c.confIDs[:0], c.out[:0]
		c.mu.Unlock()
	}
	for range 10 {
		run()
	}
	if n := testing.AllocsPerRun(200, run); n > 0 {
		t.Fatalf("%.1f allocations per publish frame", n)
	}
}

func BenchmarkPublishFrame(b *testing.B) {
	c := openConn(b)
	r := reader{b: appendStr(appendStr(append(appendU32(nil, 1), 0), ""), "alloc")}
	c.declarePublisher(&r)
	f := publishFrame(1000, 16)
	b.SetBytes(int64(len(f)))
	b.ReportAllocs()
	for b.Loop() {
		r := reader{b: f}
		c.publish(&r, 1)
		c.mu.Lock()
		c.confirms, c.confIDs, c.out = c.confirms[:0], c.confIDs[:0], c.out[:0]
		c.mu.Unlock()
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "msg/s")
}

// Delivering a chunk (read, header, CRC from the trailer, copied into
// the write buffer, or written from the mapping from gatherMin on)
// allocates nothing.
func TestDeliverAllocs(t *testing.T) {
	t.Run("copied", func(t *testing.T) { deliverAllocs(t, 10) })
	t.Run("gathered", func(t *testing.T) { deliverAllocs(t, 300) })
}

func deliverAllocs(t *testing.T, perChunk int) {
	c := openConn(t)
	r := reader{b: appendStr(appendStr(append(appendU32(nil, 1), 0), ""), "alloc")}
	c.declarePublisher(&r)
	f := publishFrame(perChunk, 16)
	for range 400 {
		r := reader{b: f}
		c.publish(&r, 1)
	}
	st, err := c.vhost.Stream("alloc")
	if err != nil {
		t.Fatal(err)
	}
	rd, err := st.NewReader(broker.OffsetSpec{Kind: broker.OffsetFirst}, broker.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := &subscription{c: c, id: 1, stream: st, reader: rd, active: true}
	buf := make([]byte, 0, 1<<20)
	conv := make([]byte, 0, 1<<16)
	hdr := make([]byte, DeliverPrefixSize+ChunkHeaderSize)
	write := func(...[]byte) bool { return true }
	// Wait for the commit: readers see committed chunks only.
	deadline := time.Now().Add(30 * time.Second)
	for st.Stats().CommittedNext < uint64(400*perChunk) {
		if time.Now().After(deadline) {
			t.Fatalf("not committed: %+v", st.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	n := testing.AllocsPerRun(200, func() {
		s.credit.Store(1)
		n := c.gathered.Load()
		buf, conv, _, _ = c.deliver(s, buf[:0], conv, hdr, write)
		if len(buf) == 0 && c.gathered.Load() == n {
			t.Fatal("no chunk delivered")
		}
	})
	if n > 0 {
		t.Fatalf("%.1f allocations per delivered chunk", n)
	}
}
