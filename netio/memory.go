package netio

import (
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// largeRelease is how many bytes of dropped buffers schedule a return of
// memory to the OS. Without it, a 100 MB message left several hundred MB
// of RSS for minutes: nothing else allocates on an idle broker, so no GC
// runs to free the buffers and the scavenger never sees them. Drops add
// up, so that many connections each letting go of a few MB count too.
const largeRelease = 16 << 20

// freeDelay lets the transport finish with what it was handed (gnet keeps a
// copy of what the socket did not take) before the memory is returned.
const freeDelay = time.Second

var (
	freeScheduled atomic.Bool
	releasedBytes atomic.Int64 // dropped since the last return
)

// releasedLarge notes that buffers of n bytes were dropped; once enough
// were, it schedules a return of memory to the OS.
func releasedLarge(n int) {
	if n > 0 && releasedBytes.Add(int64(n)) >= largeRelease {
		scheduleFree()
	}
}

// pooledRelease is the transport backlog from which a connection going
// idle or closing schedules a return of memory. gnet copies what the
// socket did not take into buffers of its byte-slice pool, a new one for
// each write that left something over, and puts them back as they drain:
// the pool ends up holding far more than the backlog ever was (40 MB after
// one consumer's 4 MB backlog), and only two GCs empty it.
const pooledRelease = 1 << 20

// releasedPooled notes that a connection whose transport held up to
// backlog bytes went idle or closed.
func releasedPooled(backlog int) {
	if backlog >= pooledRelease {
		scheduleFree()
	}
}

// releasedClosed notes that a closing connection dropped an output buffer
// of n bytes. A close with a megabyte or more of dropped buffers pending
// (its own, or large bodies assembled on any connection) returns memory by
// itself: when the kernel's socket buffers took a slow consumer's whole
// backlog (loopback receive buffers autotune up to 32 MB on some hosts),
// gnet held nothing to trigger it, and the garbage under largeRelease
// stayed until a GC that an idle broker does not run for minutes.
func releasedClosed(n int) {
	releasedLarge(n)
	if releasedBytes.Load() >= pooledRelease {
		scheduleFree()
	}
}

// scheduleFree returns memory to the OS in freeDelay, at most one pending
// at a time.
func scheduleFree() {
	if !freeScheduled.CompareAndSwap(false, true) {
		return
	}
	time.AfterFunc(freeDelay, func() {
		releasedBytes.Store(0)
		freeScheduled.Store(false)
		// gnet keeps what the socket did not take in buffers from a
		// sync.Pool, and gives them back there: a pooled buffer survives
		// one GC in the pool's victim cache, so it takes two to free it.
		// FreeOSMemory is the second, and hands the pages back.
		runtime.GC()
		debug.FreeOSMemory()
	})
}
