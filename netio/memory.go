package netio

import (
	"runtime/debug"
	"sync/atomic"
	"time"
)

// largeRelease is the buffer size from which dropping a buffer schedules a
// return of memory to the OS. Without it, a 100 MB message left several
// hundred MB of RSS for minutes: nothing else allocates on an idle broker,
// so no GC runs to free the buffers and the scavenger never sees them.
const largeRelease = 16 << 20

// freeDelay lets the transport finish with what it was handed (gnet keeps a
// copy of what the socket did not take) before the memory is returned.
const freeDelay = time.Second

var freeScheduled atomic.Bool

// releasedLarge notes that a buffer of capacity n was dropped; for a large
// one it schedules debug.FreeOSMemory, at most one pending at a time.
func releasedLarge(n int) {
	if n < largeRelease || !freeScheduled.CompareAndSwap(false, true) {
		return
	}
	time.AfterFunc(freeDelay, func() {
		freeScheduled.Store(false)
		debug.FreeOSMemory()
	})
}
