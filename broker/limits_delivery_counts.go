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
// RabbitMQ quorum queue's do (they are in its Raft log there): each time
// a message comes back unacked and is requeued, its position and new
// count are appended to the queue's delivery-counts file (12 bytes:
// segment, offset, count; written without fsync, like the dedup journal,
// so a kill -9 keeps it and only a power loss can cost the last counts).
// At start the file is read into a map of position to count, only for
// messages that were redelivered and whose segment still exists, and the
// file is rewritten with that; the count goes back into the message's
// Ticket when the queue next hands the message out, and leaves the map.
// So memory is 10 bytes per redelivered message waiting since the
// restart, nothing for the rest of the backlog. A message in flight at a
// crash keeps the count it had when last requeued (RabbitMQ counts one
// more for the consumer it lost).

const (
	deliveryCountsFile  = "delivery-counts"
	deliveryCountEntry  = 12
	deliveryCountsLimit = 1 << 16 // entries appended before the file is compacted
)

// deliveryCounts is a quorum queue's journal of counts. Guarded by q.mu.
type deliveryCounts struct {
	path     string
	restored map[segment.Pos]uint16 // counts read at start, not yet handed out
	appended int                    // entries written since the file was last compacted
	failed   bool                   // a write failed: logged once
}

// openDeliveryCountsLocked reads a durable quorum queue's counts.
// REQUIRES: q.mu held, or q not yet shared.
func (q *Queue) openDeliveryCountsLocked() {
	if !q.quorum() || !q.Durable {
		return
	}
	c := &deliveryCounts{path: filepath.Join(q.vhost.b.queueDir(q.vhost, q.Name, true), deliveryCountsFile)}
	q.counts = c
	m, n, err := readDeliveryCounts(c.path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			slog.Warn("quorum queue: delivery counts unreadable; they start again from 0", "queue", q.Name, "err", err)
		}
		return
	}
	if len(m) > 0 {
		c.restored = m
	}
	if n != len(m) {
		c.rewrite(m)
	}
}

// readDeliveryCounts reads a counts file: the last count of each position
// whose segment file is still in the directory, and the number of entries.
func readDeliveryCounts(path string) (map[segment.Pos]uint16, int, error) {
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
	m := map[segment.Pos]uint16{}
	n := len(b) / deliveryCountEntry
	for i := range n {
		e := b[i*deliveryCountEntry:]
		p := segment.Pos{Seg: binary.LittleEndian.Uint32(e), Off: binary.LittleEndian.Uint32(e[4:])}
		if live[p.Seg] {
			m[p] = binary.LittleEndian.Uint16(e[8:])
		}
	}
	return m, n, nil
}

func appendDeliveryCount(b []byte, p segment.Pos, n uint16) []byte {
	b = binary.LittleEndian.AppendUint32(b, p.Seg)
	b = binary.LittleEndian.AppendUint32(b, p.Off)
	b = binary.LittleEndian.AppendUint16(b, n)
	return append(b, 0, 0)
}

// rewrite replaces the file with the entries of m.
func (c *deliveryCounts) rewrite(m map[segment.Pos]uint16) {
	b := make([]byte, 0, len(m)*deliveryCountEntry)
	for p, n := range m {
		b = appendDeliveryCount(b, p, n)
	}
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
func (c *deliveryCounts) record(p segment.Pos, n uint16) {
	if c.appended >= deliveryCountsLimit {
		if m, _, err := readDeliveryCounts(c.path); err == nil {
			c.rewrite(m)
		}
		if c.appended >= deliveryCountsLimit/2 {
			c.appended = 0 // mostly live: compact again only after as many more
		}
	}
	f, err := os.OpenFile(c.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		c.fail(err)
		return
	}
	var buf [deliveryCountEntry]byte
	_, err = f.Write(appendDeliveryCount(buf[:0], p, n))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		c.fail(err)
		return
	}
	c.appended++
}

func (c *deliveryCounts) fail(err error) {
	if !c.failed {
		c.failed = true
		slog.Warn("quorum queue: cannot record delivery counts; after a restart they start again from 0", "file", c.path, "err", err)
	}
}

// restoreCountLocked gives t, just handed out by the store, the count its
// message had before a restart. REQUIRES: q.mu held.
func (q *Queue) restoreCountLocked(t *Ticket) {
	c := q.counts
	if c == nil || c.restored == nil {
		return
	}
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
