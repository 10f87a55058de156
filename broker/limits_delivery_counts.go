package broker

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/warrenmq/warren/segment"
)

// A durable quorum queue's delivery counts survive a restart, as a
// RabbitMQ quorum queue's do (they are in its Raft log there). Two events
// are appended to the queue's delivery-counts file, 12 bytes each
// (segment, offset, count, a checked-out flag), written without fsync
// like the dedup journal, so a kill -9 keeps them and only a power loss
// can cost the last ones:
//   - a message handed to a consumer or basic.get (checked out), with the
//     count it went out with;
//   - a message that came back unacked and was requeued, with its new
//     count.
//
// At start the file is read into a map of position to count, only for
// messages that are neither acked (the ack index says) nor in a deleted
// segment, and the file is rewritten with that. A message whose last
// event is a checkout was in flight when the broker stopped: its consumer
// is gone, so it counts one more, as RabbitMQ 3.10's rabbit_fifo counts
// it (on becoming leader after the restart it sees the old consumers
// down and returns their checked-out messages, return_one adding one to
// delivery_count); past x-delivery-limit it is dead lettered (or
// dropped) when it reaches the head of the queue, before it would be
// delivered again (headOverDeliveryLimitLocked, from the expiry walk).
// The count goes back into the message's Ticket when the queue next
// hands the message out, and leaves the map. So memory is 10 bytes per
// such message waiting since the restart, nothing for the rest of the
// backlog; the cost is one small write per delivery and per requeue.

const (
	deliveryCountsFile  = "delivery-counts"
	deliveryCountEntry  = 12
	deliveryCountsLimit = 1 << 16 // entries appended before the file is compacted
)

// deliveryCount is the last event of a position in the file.
type deliveryCount struct {
	n   uint16
	out bool // checked out: delivered and not yet back
}

// deliveryCounts is a quorum queue's journal of counts. Guarded by q.mu.
type deliveryCounts struct {
	path     string
	restored map[segment.Pos]uint16 // counts read at start, not yet handed out
	appended int                    // entries written since the file was last compacted
	failed   bool                   // a write failed: logged once
	done     func(segment.Pos) bool // the message is acked (nil: none known)
	f        *os.File               // the file, open for appending once written to
}

// openDeliveryCountsLocked reads a durable quorum queue's counts.
// REQUIRES: q.mu held, or q not yet shared.
func (q *Queue) openDeliveryCountsLocked() {
	if !q.quorum() || !q.Durable {
		return
	}
	c := &deliveryCounts{path: filepath.Join(q.vhost.b.queueDir(q.vhost, q.Name, true), deliveryCountsFile)}
	if cs, ok := q.st.(*classicStore); ok {
		c.done = func(p segment.Pos) bool { _, done := cs.idx.Skip(p); return done }
	}
	q.counts = c
	m, n, err := readDeliveryCounts(c.path, c.done)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			slog.Warn("quorum queue: delivery counts unreadable; they start again from 0", "queue", q.Name, "err", err)
		}
		return
	}
	changed := n != len(m)
	restored := make(map[segment.Pos]uint16, len(m))
	over := false
	for p, e := range m {
		if e.out { // its consumer went away with the broker
			e.n = min(e.n+1, maxReturns)
			m[p] = deliveryCount{n: e.n}
			changed = true
		}
		restored[p] = e.n
		over = over || int64(e.n) > q.deliveryLimitLocked()
	}
	if changed {
		c.rewrite(m) // the restart's returns, counted once
	}
	if len(restored) > 0 {
		c.restored = restored
	}
	if over {
		// The walk that drops expired heads before each delivery drops
		// these too (expireLocked).
		q.expiryLocked().msgs = true
	}
}

// readDeliveryCounts reads a counts file: the last event of each position
// whose segment file is still in the directory and that done does not
// call acked, and the number of entries.
func readDeliveryCounts(path string, done func(segment.Pos) bool) (map[segment.Pos]deliveryCount, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	live := map[uint32]bool{}
	if ents, err := os.ReadDir(filepath.Dir(path)); err == nil {
		for _, e := range ents {
			if id, ok := strings.CutPrefix(e.Name(), "seg."); ok && len(id) == 10 {
				var n uint32
				valid := true
				for _, c := range id {
					if c < '0' || c > '9' {
						valid = false
						break
					}
					n = n*10 + uint32(c-'0')
				}
				if valid {
					live[n] = true
				}
			}
		}
	}
	m := map[segment.Pos]deliveryCount{}
	n := len(b) / deliveryCountEntry
	for i := range n {
		e := b[i*deliveryCountEntry:]
		p := segment.Pos{Seg: binary.LittleEndian.Uint32(e), Off: binary.LittleEndian.Uint32(e[4:])}
		if live[p.Seg] {
			m[p] = deliveryCount{n: binary.LittleEndian.Uint16(e[8:]), out: e[10] == 1}
		}
	}
	if done != nil {
		for p := range m {
			if done(p) {
				delete(m, p)
			}
		}
	}
	return m, n, nil
}

func appendDeliveryCount(b []byte, p segment.Pos, e deliveryCount) []byte {
	b = binary.LittleEndian.AppendUint32(b, p.Seg)
	b = binary.LittleEndian.AppendUint32(b, p.Off)
	b = binary.LittleEndian.AppendUint16(b, e.n)
	var out byte
	if e.out {
		out = 1
	}
	return append(b, out, 0)
}

// rewrite replaces the file with the entries of m.
func (c *deliveryCounts) rewrite(m map[segment.Pos]deliveryCount) {
	b := make([]byte, 0, len(m)*deliveryCountEntry)
	for p, e := range m {
		b = appendDeliveryCount(b, p, e)
	}
	c.close() // it appends to the file being replaced
	tmp := c.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		c.fail(err)
		return
	}
	if err := os.Rename(tmp, c.path); err != nil {
		c.fail(err)
		return
	}
	c.appended = len(m)
}

// record notes that the message at p has come back n times.
func (c *deliveryCounts) record(p segment.Pos, n uint16) { c.append(p, deliveryCount{n: n}) }

// checkedOut notes that the message at p went out with count n.
func (c *deliveryCounts) checkedOut(p segment.Pos, n uint16) {
	c.append(p, deliveryCount{n: n, out: true})
}

func (c *deliveryCounts) append(p segment.Pos, e deliveryCount) {
	if c.appended >= deliveryCountsLimit {
		if m, _, err := readDeliveryCounts(c.path, c.done); err == nil {
			c.rewrite(m)
		}
		if c.appended >= deliveryCountsLimit/2 {
			c.appended = 0 // mostly live: compact again only after as many more
		}
	}
	if c.f == nil {
		// Kept open: a write per delivery is the cost of counting
		// checkouts; an open and a close each time tripled it.
		f, err := os.OpenFile(c.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			c.fail(err)
			return
		}
		c.f = f
	}
	var buf [deliveryCountEntry]byte
	if _, err := c.f.Write(appendDeliveryCount(buf[:0], p, e)); err != nil {
		c.fail(err)
		c.close()
		return
	}
	c.appended++
}

// close closes the file (the queue closing or being deleted, or the file
// being replaced); the next write opens it again.
func (c *deliveryCounts) close() {
	if c != nil && c.f != nil {
		_ = c.f.Close()
		c.f = nil
	}
}

func (c *deliveryCounts) fail(err error) {
	if !c.failed {
		c.failed = true
		slog.Warn("quorum queue: cannot record delivery counts; after a restart they start again from 0", "file", c.path, "err", err)
	}
}

// restoreCountLocked runs for t, just handed out by the store: it gives t
// the count its message had before a restart and, for a durable quorum
// queue, records the checkout. REQUIRES: q.mu held.
func (q *Queue) restoreCountLocked(t *Ticket) {
	c := q.counts
	if c == nil {
		return
	}
	if c.restored != nil {
		if n, ok := c.restored[t.pos]; ok {
			delete(c.restored, t.pos)
			if len(c.restored) == 0 {
				c.restored = nil
			}
			if n > t.returns {
				t.returns = n
			}
		}
	}
	c.checkedOut(t.pos, t.returns)
}

// headOverDeliveryLimitLocked says whether the next message the queue
// would hand out came back from a restart past its delivery limit.
// REQUIRES: q.mu held.
func (q *Queue) headOverDeliveryLimitLocked() bool {
	c := q.counts
	if c == nil || c.restored == nil {
		return false
	}
	cs, ok := q.st.(*classicStore)
	if !ok {
		return false
	}
	p, _, ok := cs.headAt()
	if !ok {
		return false
	}
	n, ok := c.restored[p]
	return ok && int64(n) > q.deliveryLimitLocked()
}
