package mgmt

import (
	"slices"
	"time"

	"github.com/warrenmq/warren/broker"
)

// RabbitMQ lists idle_since on a queue or channel whose process has gone
// idle (hibernated) since its last work, and drops it once the object is
// busy again. Warren has no process to hibernate; the sampler's readings
// say the same without a clock read per message: an object whose counters
// did not move over the last interval has been idle since the reading in
// which they last moved.

// idleSinceLayout is how RabbitMQ 3.10 prints it: 2026-12-02T18:36:02.500+00:00.
const idleSinceLayout = "2006-01-02T15:04:05.000-07:00"

func (r *rateRing) idleSince() (time.Time, bool) {
	if r == nil || r.n < 2 || r.s[r.n-1].c != r.s[r.n-2].c {
		return time.Time{}, false
	}
	return r.changed, true
}

func (r *objRing) idleSince() (time.Time, bool) {
	if r == nil || r.n < 2 || !slices.Equal(r.c[r.n-1], r.c[r.n-2]) {
		return time.Time{}, false
	}
	return r.changed, true
}

// queueIdleSince is a queue's idle_since, "" while it is busy.
func (r *rates) queueIdleSince(q *broker.Queue) string {
	r.mu.Lock()
	t, ok := r.q[q].idleSince()
	r.mu.Unlock()
	return formatIdle(t, ok)
}

// channelIdleSince is a channel's idle_since, "" while it is busy.
func (r *rates) channelIdleSince(ch *broker.ChannelEntry) string {
	r.mu.Lock()
	t, ok := r.chans[ch].idleSince()
	r.mu.Unlock()
	return formatIdle(t, ok)
}

func formatIdle(t time.Time, ok bool) string {
	if !ok {
		return ""
	}
	return t.Local().Format(idleSinceLayout)
}
