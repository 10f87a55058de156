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
	// records got such a generation must be nacked, not confirmed, even
	// though Committed() passed it. from is one past Committed() as read
	// before the publish: its records have generations in [from, CommitGen].
	Lost(from, to uint64) bool
}

// syncWatermark is the watermark of local disk: the group-commit Syncer's
// completed generation.
type syncWatermark struct{ s *segment.Syncer }

func (w syncWatermark) Committed() uint64 { return w.s.Done() }

func (w syncWatermark) Subscribe(fn func(uint64)) func() { return w.s.Subscribe(fn) }

func (w syncWatermark) Lost(from, to uint64) bool { return w.s.Failed(from, to) }
