package broker

import "github.com/warrenmq/warren/segment"

// Watermark says how far commits have come: a publish whose
// PublishResult.CommitGen is g is safe once Committed() >= g. Publisher
// confirms depend on nothing else, so whatever makes a message safe (an
// fdatasync today, a quorum of replicas for a replicated queue later) only
// has to move this watermark.
type Watermark interface {
	// Committed is the highest generation that is safe; it never goes back.
	Committed() uint64
	// Subscribe calls fn with the new committed generation each time it
	// moves, on the committer's goroutine: fn must be quick and must not
	// call into the broker. cancel stops the calls.
	Subscribe(fn func(committed uint64)) (cancel func())
	// Lost reports whether the commit of a generation in [from, to] failed
	// somewhere (a write or an fdatasync of a queue file): a publish whose
	// records got such a generation may not be safe even though
	// Committed() passed it. from is one past Committed() as read before
	// the publish: its records have generations in [from, CommitGen].
	Lost(from, to uint64) bool
	// LostIn is Lost for the records of one queue: whether the commit of a
	// generation in [from, to] failed for a file of q. A publish is safe if
	// it is not lost in any queue it was stored in, whatever failed
	// elsewhere in the same generations.
	LostIn(q *Queue, from, to uint64) bool
}

// syncWatermark is the watermark of local disk: the group-commit Syncer's
// completed generation.
type syncWatermark struct{ s *segment.Syncer }

func (w syncWatermark) Committed() uint64 { return w.s.Done() }

func (w syncWatermark) Subscribe(fn func(uint64)) func() { return w.s.Subscribe(fn) }

func (w syncWatermark) Lost(from, to uint64) bool { return w.s.Failed(from, to) }

func (w syncWatermark) LostIn(q *Queue, from, to uint64) bool {
	if !w.s.Failed(from, to) {
		return false // the common case, without a lock
	}
	return q.commitLost(from, to)
}

// commitLoser is a store that can tell which commits failed for its files.
type commitLoser interface {
	commitLost(from, to uint64) bool
}

// commitLost reports whether the commit of a generation in [from, to]
// failed for one of q's files. The caller saw a failure in those
// generations; a store that cannot tell where counts it as its own.
func (q *Queue) commitLost(from, to uint64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if cl, ok := q.st.(commitLoser); ok {
		return cl.commitLost(from, to)
	}
	return true
}

func (s *classicStore) commitLost(from, to uint64) bool { return s.log.CommitFailed(from, to) }
