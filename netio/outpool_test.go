package netio

import "testing"

// While many connections are busy (their output budget shared), each
// holds only the buffer being filled between flushes; the buffers
// flushes gave back are shared through outPool. Before, each connection
// kept a spare of its own as well: 32 busy consumers held 64 buffers,
// 13 MB of the 16 MB live heap in issue 19's 32p/32c case. One busy
// connection alone keeps its spare.
func TestFlushedOutputBuffersShared(t *testing.T) {
	const conns, size = 32, 40 << 10
	payload := make([]byte, size)
	cs := make([]*Conn, conns)
	for i := range cs {
		cs[i] = &Conn{}
	}
	defer func() {
		for _, c := range cs {
			c.releaseOutput()
		}
	}()
	fill := func(c *Conn) { c.appendLoop(func(b []byte) []byte { return append(b, payload...) }) }
	alone := cs[0]
	fill(alone)
	alone.ReturnOutput(alone.TakeOutput(), 0)
	if n := heldOutputBuffers(alone); n != 1 {
		t.Fatalf("a connection busy alone holds %d buffers after its flush, want its spare", n)
	}
	for _, c := range cs {
		fill(c) // all busy
	}
	for round := range 3 {
		for _, c := range cs {
			c.ReturnOutput(c.TakeOutput(), 0)
			fill(c) // output waiting for the next flush
		}
		held := 0
		for _, c := range cs {
			held += heldOutputBuffers(c)
		}
		pooled, _ := outPool.held()
		t.Logf("round %d: %d connections with output waiting hold %d buffers, the pool %d", round, conns, held, pooled)
		if held > conns {
			t.Fatalf("round %d: %d connections hold %d output buffers: more than the one each is filling", round, conns, held)
		}
		if pooled > outPoolMax {
			t.Fatalf("the pool holds %d buffers, over its %d", pooled, outPoolMax)
		}
	}
}

// heldOutputBuffers counts the output buffers c keeps.
func heldOutputBuffers(c *Conn) int {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	n := 0
	if cap(c.out.buf) > 0 {
		n++
	}
	if cap(c.out.spare) > 0 {
		n++
	}
	return n
}

// An unused pool lets its buffers go after outPoolIdleTicks ticks and
// keeps them while connections take from it.
func TestOutPoolTrimmedWhenIdle(t *testing.T) {
	var p bufPool
	for range outPoolMax + 2 {
		p.put(make([]byte, 0, 64<<10))
	}
	if n, _ := p.held(); n != outPoolMax {
		t.Fatalf("pool holds %d buffers, want its max %d", n, outPoolMax)
	}
	for range 3 * outPoolIdleTicks {
		p.put(p.get())
		if p.trim() != 0 {
			t.Fatal("a pool in use was trimmed")
		}
	}
	released := 0
	for range outPoolIdleTicks {
		released += p.trim()
	}
	if n, b := p.held(); n != 0 || b != 0 || released != outPoolMax*(64<<10) {
		t.Fatalf("after %d idle ticks the pool holds %d buffers (%d B) and released %d B", outPoolIdleTicks, n, b, released)
	}
}
