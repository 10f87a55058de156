package netio

import (
	"sync/atomic"

	"github.com/warrenmq/warren/frame"
)

// assemblyKeep is the largest content-assembly buffer a channel keeps from
// one message to the next: small multi-frame bodies reuse it without
// allocating, while a large one goes back to the GC as soon as its message
// is stored, so idle channels cannot pin what their biggest message took.
const assemblyKeep = 256 << 10

// Bodies larger than assemblyKeep are reserved against two budgets when
// their header arrives: one for the connection and one for the server.
// Without them one connection with 2,047 channels, each part-way through a
// 128 MiB body, could make the broker hold 256 GiB.
const (
	defaultConnAssembly   = 256 << 20
	defaultServerAssembly = 1 << 30
)

// assemblyBudget counts the bytes reserved for bodies being assembled.
type assemblyBudget struct {
	used  atomic.Int64
	limit atomic.Int64 // 0 = the default
}

func (a *assemblyBudget) reserve(n, floor, dflt int64) bool {
	limit := a.limit.Load()
	if limit == 0 {
		limit = max(dflt, floor)
	}
	if a.used.Add(n) > limit {
		a.used.Add(-n)
		return false
	}
	return true
}

func (a *assemblyBudget) release(n int64) { a.used.Add(-n) }

// reserveAssembly books size bytes for the body whose header ch just read.
// Over a budget the connection is closed with 506 RESOURCE_ERROR: the
// simplest answer a client cannot mistake (RabbitMQ would block the
// connection under its memory alarm; Warren refuses the one publish that
// would have gone over, before any of its body is read). A single message
// up to the configured maximum size always fits an otherwise idle budget.
func (ch *channel) reserveAssembly(size uint64) error {
	c := ch.c
	n := int64(size)
	floor := c.b.Config().MaxMessageSize
	if !c.assembly.reserve(n, floor, defaultConnAssembly) {
		return frame.Errorf(frame.ResourceError, "cannot assemble a %d-byte message: the connection is already assembling %d bytes", n, c.assembly.used.Load()).WithMethod(frame.IDBasicPublish)
	}
	if !c.srv.assembly.reserve(n, floor, defaultServerAssembly) {
		c.assembly.release(n)
		return frame.Errorf(frame.ResourceError, "cannot assemble a %d-byte message: the broker is already assembling %d bytes", n, c.srv.assembly.used.Load()).WithMethod(frame.IDBasicPublish)
	}
	ch.pub.reserved = n
	return nil
}

// releaseAssembly gives back what the message in progress had reserved and
// lets its buffer go if it is too big to keep.
func (ch *channel) releaseAssembly() {
	p := &ch.pub
	if p.reserved != 0 {
		ch.c.assembly.release(p.reserved)
		ch.c.srv.assembly.release(p.reserved)
		p.reserved = 0
	}
	if cap(p.body) > assemblyKeep {
		releasedLarge(cap(p.body))
		p.body = nil
	}
}
