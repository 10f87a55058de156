package netio

import "sync"

// outPool holds the output buffers that flushes gave back while many
// connections are busy, for whichever connection next has something to
// send. Each connection used to keep a spare of its own besides the
// buffer being filled, so 32 busy consumers held 64 buffers where only
// the flushes in progress (one per event loop, or per TLS connection's
// goroutine) need a second one: in issue 19's 32p/32c case the output
// buffers were 13 MB of a 16 MB live heap, and Go's GC pacing doubles
// whatever is live in RSS. So while the output budget is shared
// (budgetShared), a connection holds a buffer only while it has output
// waiting. With one or two busy connections each keeps its spare, which
// costs no lock per flush (the 1p/1c cases).
//
// Not a sync.Pool: storing a []byte there allocates (the hot path stays
// at 0 allocs/op), and its contents go at every GC, which would turn each
// GC into a burst of buffer growth on every busy connection.
var outPool bufPool

// outPoolMax is how many buffers the pool keeps: the flushes that can be
// in progress at once on a 2-8 core machine, plus slack for the
// connections that take one meanwhile. Past it a returned buffer is
// dropped for the GC.
const outPoolMax = 8

// outPoolIdleTicks is how many server ticks (100 ms) without a get empty
// the pool, so an idle broker does not keep burst-sized buffers.
const outPoolIdleTicks = 20

type bufPool struct {
	mu    sync.Mutex
	bufs  [][]byte
	gets  uint64 // since the last trim
	idle  int    // trims in a row that saw no get
	bytes int    // capacity held
}

// get returns an empty buffer, nil if the pool has none.
func (p *bufPool) get() []byte {
	p.mu.Lock()
	var b []byte
	if n := len(p.bufs); n > 0 {
		b = p.bufs[n-1]
		p.bufs[n-1] = nil
		p.bufs = p.bufs[:n-1]
		p.bytes -= cap(b)
	}
	p.gets++
	p.mu.Unlock()
	return b
}

// put keeps b for reuse and reports whether it did; a full pool leaves b
// to the GC (the caller counts it released).
func (p *bufPool) put(b []byte) bool {
	if cap(b) == 0 {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.bufs) >= outPoolMax {
		return false
	}
	if p.bufs == nil {
		p.bufs = make([][]byte, 0, outPoolMax)
	}
	p.bufs = append(p.bufs, b[:0])
	p.bytes += cap(b)
	return true
}

// trim empties the pool once it has gone unused for outPoolIdleTicks
// ticks, and returns the bytes it let go.
func (p *bufPool) trim() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gets > 0 {
		p.gets, p.idle = 0, 0
		return 0
	}
	if p.idle++; p.idle < outPoolIdleTicks || len(p.bufs) == 0 {
		return 0
	}
	n := p.bytes
	clear(p.bufs)
	p.bufs, p.bytes, p.idle = p.bufs[:0], 0, 0
	return n
}

// held is the capacity the pool keeps (tests).
func (p *bufPool) held() (n, bytes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.bufs), p.bytes
}
