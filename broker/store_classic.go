package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"syscall"

	"github.com/warrenmq/warren/index"
	"github.com/warrenmq/warren/segment"
)

var _ store = (*classicStore)(nil)

// storeOptions configure a classic store.
type storeOptions struct {
	Durable     bool
	SegmentSize int64 // 0: segment.DefaultSegmentSize
	Syncer      *segment.Syncer
	// OnMkdir runs when the store creates its directory, which it does
	// only once it has something to keep there.
	OnMkdir func(dir string) error
	// Owner is the lock held around every call on the store (the queue's
	// mutex): with it, the broker-wide mapping budget may unmap a cold
	// store's segments and ack files (segment/mapbudget.go).
	Owner segment.Owner
}

// classicStore is a classic queue's messages: a segment log (the bytes) plus
// an ack index (what is done), glued by a read cursor. Its Tickets hold a
// record's position, sizes and persistence: what the index needs to mark it
// done.
//
// Every message is in exactly one state:
//   - ready, ahead of the cursor: costs no memory at all;
//   - ready, requeued: in the requeued heap of ticket runs (position order, so requeued
//     messages go out first and in their original order);
//   - in flight (handed out by next, not yet acked or requeued): held by
//     the caller as a Ticket, which it gives back to ack or requeue;
//   - done: in the index's runs, and gone from disk with its segment.
//
// So memory is O(segments + in flight + requeued), whatever the backlog.
//
// Not safe for concurrent use: the queue's mutex guards it. Record views
// returned by next and read point into a mapping or a staging buffer and
// are valid until the next call on the store.
type classicStore struct {
	dir     string
	durable bool
	log     *segment.Log
	idx     *index.Index
	cur     segment.Pos // next position the forward scan looks at

	requeued requeuedHeap // requeued.go

	ready  int // requeued + ahead of the cursor, not done
	readyB int64
	closed bool
	// readFail is why the last next found nothing although records were
	// ready and undamaged (takeReadFailure).
	readFail error

	// fresh is the record appendFresh just stored, still in the
	// publisher's buffers; allocated on a queue's first appendFresh, so
	// queues nobody consumes from pay one pointer.
	fresh *freshRecord
}

// freshRecord is a record appendFresh stored: ok outside the publish that
// stored it is false.
type freshRecord struct {
	rec  segment.Record
	pos  segment.Pos
	size uint32
	ok   bool
}

// openClassicStore opens the store in dir, recovering what a durable one
// left.
func openClassicStore(dir string, o storeOptions) (*classicStore, error) {
	l, recs, err := segment.Open(dir, segment.Options{SegmentSize: o.SegmentSize, Durable: o.Durable, Syncer: o.Syncer, OnMkdir: o.OnMkdir, Owner: o.Owner})
	if err != nil {
		return nil, err
	}
	x, err := index.Open(dir, index.Options{Durable: o.Durable, NoDir: l.NoDir(), Owner: o.Owner}, recs)
	if err != nil {
		l.Close()
		return nil, err
	}
	// New segments must order after every position handed out before.
	l.ReserveIDs(x.NextSegment())
	s := &classicStore{dir: dir, durable: o.Durable, log: l, idx: x}
	for _, r := range recs {
		if x.Complete(r.ID) {
			s.removeSegment(r.ID)
		}
	}
	s.ready, s.readyB = x.NotDone()
	return s, nil
}

// logger is made when something is logged, which is rare: one kept per
// store costs 1 KiB a queue.
func (s *classicStore) logger() *slog.Logger { return slog.Default().With("store", s.dir) }

// append stores m as a record. commitGen > 0: m is persistent and the
// store durable, and m is on disk once the Syncer's Done() reaches it.
func (s *classicStore) append(m Message) (commitGen uint64, err error) {
	rec := segment.Record{Timestamp: m.Timestamp, Exchange: m.Exchange, RoutingKey: m.RoutingKey, Props: m.Props, Body: m.Body}
	if m.Persistent {
		rec.Flags = segment.FlagPersistent
	}
	if m.bcc {
		rec.Flags |= storeBCCFlag
	}
	_, commitGen, err = s.appendRecord(&rec)
	return commitGen, err
}

// appendFresh is append for a publish that may be delivered before it
// returns: until dropFresh (which the publish calls before it lets go of
// m), next hands m out from the publisher's own buffers when it is the
// only ready message, instead of reading back and decoding the record it
// just wrote (issue 19: deliver straight from the publish buffer when a
// consumer is waiting and the queue is empty).
func (s *classicStore) appendFresh(m *Message) (commitGen uint64, err error) {
	f := s.fresh
	if f == nil {
		f = new(freshRecord)
		s.fresh = f
	}
	f.rec = segment.Record{Timestamp: m.Timestamp, Exchange: m.Exchange, RoutingKey: m.RoutingKey, Props: m.Props, Body: m.Body}
	if m.Persistent {
		f.rec.Flags = segment.FlagPersistent
	}
	if m.bcc {
		f.rec.Flags |= storeBCCFlag // as append: stripped at delivery, kept for dead lettering
	}
	f.pos, f.size, commitGen, err = s.appendRecordSized(&f.rec)
	f.ok = err == nil
	return commitGen, err
}

// dropFresh forgets the message appendFresh kept (and its views of the
// publisher's buffers).
func (s *classicStore) dropFresh() {
	if f := s.fresh; f != nil {
		f.ok = false
		f.rec = segment.Record{}
	}
}

// takeFresh hands out the message appendFresh kept if it is the only
// ready one: everything between the cursor and it is then in flight or
// done, so the cursor may jump past it.
func (s *classicStore) takeFresh() (t Ticket, d Delivery, ok bool) {
	f := s.fresh
	if f == nil || !f.ok || s.ready != 1 || !s.requeued.empty() || s.closed {
		return t, d, false
	}
	f.ok = false
	q := f.pos
	s.cur = segment.Pos{Seg: q.Seg, Off: q.Off + f.size}
	t = Ticket{pos: q, size: f.size, body: uint32(len(f.rec.Body)), persistent: f.rec.Flags&segment.FlagPersistent != 0}
	s.ready--
	s.readyB -= int64(t.body)
	if err := s.idx.Delivered(q); err != nil {
		faultHint.report(s.dir, err)
	}
	return t, delivery(&f.rec, s.idx.Redelivered(q)), true
}

// appendRecord stores r and says where. syncGen is as append's commitGen.
func (s *classicStore) appendRecord(r *segment.Record) (pos segment.Pos, syncGen uint64, err error) {
	pos, _, syncGen, err = s.appendRecordSized(r)
	return pos, syncGen, err
}

// appendRecordSized is appendRecord that also gives the record's size.
func (s *classicStore) appendRecordSized(r *segment.Record) (pos segment.Pos, size uint32, syncGen uint64, err error) {
	if s.fresh != nil {
		s.fresh.ok = false // whatever the cursor meets now is read from the log
	}
	if s.closed {
		return pos, 0, 0, segment.ErrClosed
	}
	prev, _, hadHead := s.log.Head()
	pos, size, syncGen, err = s.log.Append(r)
	if s.log.Retired() {
		s.retrackRetired()
	}
	if err != nil {
		return pos, 0, 0, err
	}
	s.idx.Added(pos.Seg, len(r.Body))
	s.ready++
	s.readyB += int64(len(r.Body))
	if hadHead && pos.Seg != prev && s.idx.Complete(prev) {
		s.removeSegment(prev) // the old head filled up with everything already done
	}
	return pos, size, syncGen, nil
}

// next hands out the next ready message, requeued ones first, and moves it
// in flight. d.Redelivered is true for requeued messages and for messages
// that may have been delivered before a restart.
func (s *classicStore) next() (t Ticket, d Delivery, ok bool) {
	defer s.recoverFault()
	s.readFail = nil
	if s.closed {
		return t, d, false
	}
	for !s.requeued.empty() {
		e := s.requeued.pop()
		s.ready--
		s.readyB -= int64(e.body)
		rec, _, err := s.log.Read(e.pos)
		if err != nil && isRetryableRead(err) {
			s.requeued.push(e)
			s.ready++
			s.readyB += int64(e.body)
			s.readFail = fmt.Errorf("read at %v: %w", e.pos, err)
			return t, d, false
		}
		if err != nil {
			s.logger().Error("store: requeued message unreadable; dropping it", "pos", e.pos, "err", err)
			s.done(e.pos, e.size, e.body, e.persistent)
			continue
		}
		return e, delivery(&rec, true), true
	}
	if s.fresh != nil && s.fresh.ok {
		if t, d, ok := s.takeFresh(); ok {
			return t, d, true
		}
	}
	for {
		q, rec, n, err := s.log.Next(s.cur)
		switch {
		case err == segment.ErrEnd:
			s.cur = q
			if s.ready != 0 {
				// Nothing requeued and nothing ahead: ready must be 0.
				s.logger().Error("store: ready count drifted; resetting", "ready", s.ready, "bytes", s.readyB)
				s.ready, s.readyB = 0, 0
			}
			return t, d, false
		case err != nil:
			if !s.recover(q, err) {
				return t, d, false
			}
			continue
		}
		if end, done := s.idx.Skip(q); done {
			s.cur = segment.Pos{Seg: q.Seg, Off: end}
			continue
		}
		s.cur = segment.Pos{Seg: q.Seg, Off: q.Off + n}
		e := Ticket{pos: q, size: n, body: uint32(len(rec.Body)), persistent: rec.Flags&segment.FlagPersistent != 0}
		s.ready--
		s.readyB -= int64(e.body)
		if err := s.idx.Delivered(q); err != nil {
			faultHint.report(s.dir, err)
		}
		return e, delivery(&rec, s.idx.Redelivered(q)), true
	}
}

// retrackRetired recounts the segments the log retired after a failed
// write (segment/retire.go): the records that never reached the file are
// gone, and a segment left with nothing to deliver is deleted.
func (s *classicStore) retrackRetired() {
	for _, r := range s.log.TakeRetired() {
		dc, db := s.idx.Retrack(r)
		s.ready += dc
		s.readyB += db
		if s.idx.Complete(r.ID) {
			s.removeSegment(r.ID)
		}
	}
}

// delivery is the view of r that a queue hands out (without a BCC header
// kept for dead lettering: withoutBCC).
func delivery(r *segment.Record, redelivered bool) Delivery {
	props, cut := r.Props, r.Flags&storeBCCFlag != 0
	if cut {
		props = withoutBCC(props)
	}
	return Delivery{
		Exchange: r.Exchange, RoutingKey: r.RoutingKey, Props: props, Body: r.Body,
		Timestamp: r.Timestamp, Persistent: r.Flags&segment.FlagPersistent != 0, Redelivered: redelivered,
		bccCut: cut,
	}
}

// isRetryableRead reports whether a failed read can work later: the
// kernel refused a mapping or a file descriptor, nothing wrong with the
// data.
func isRetryableRead(err error) bool {
	return errors.Is(err, segment.ErrMapLimit) || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ENOMEM)
}

// recover deals with a read error at q: a corrupt record makes the log
// check its segment again (padding over the damage) and the index recount.
// It reports whether next may go on.
func (s *classicStore) recover(q segment.Pos, err error) bool {
	var ce *segment.CorruptError
	if !errors.As(err, &ce) {
		// Not damage: the record stays at the cursor, ready, and the
		// queue reports it and tries again (queue_readfail.go).
		s.readFail = fmt.Errorf("read at %v: %w", q, err)
		return false
	}
	r, rerr := s.log.Rescan(ce.Pos.Seg)
	if rerr != nil {
		s.logger().Error("store: cannot rescan damaged segment", "segment", ce.Pos.Seg, "err", rerr)
		return false
	}
	dc, db := s.idx.Retrack(r)
	s.ready += dc
	s.readyB += db
	return true
}

// read returns the message at pos (in flight, normally) without changing
// its state.
func (s *classicStore) read(pos segment.Pos) (rec segment.Record, err error) {
	err = segment.ErrClosed // what a fault leaves
	defer s.recoverFault()
	rec, _, err = s.log.Read(pos)
	return rec, err
}

// ack marks an in-flight message done for good (ack, reject or nack
// without requeue, or a no-ack delivery).
func (s *classicStore) ack(t Ticket) error {
	if s.closed {
		return segment.ErrClosed
	}
	return s.done(t.pos, t.size, t.body, t.persistent)
}

// done marks a record done in the index and deletes its segment if that
// was the last one.
func (s *classicStore) done(pos segment.Pos, size, body uint32, persistent bool) error {
	complete, err := s.idx.Ack(pos, size, body, s.durable && persistent)
	if !s.durable && err == nil {
		s.discardDone(pos)
	}
	if complete {
		if head, used, ok := s.log.Head(); !ok || head != pos.Seg {
			s.removeSegment(pos.Seg)
		} else if int64(used) >= s.log.SegmentSize()/2 {
			// A drained head that is at least half full goes too, so a
			// drained queue holds at most half a segment of disk. (Below
			// that, a queue that empties after every message would create
			// and delete a file per message.)
			s.removeSegment(pos.Seg)
		}
	}
	return err
}

// discardDone tells a non-durable log how far the done records reach from
// the first staged one it has not dropped, after pos (one of them, staged)
// was done: it need not write them (segment/discard.go). Never past the
// cursor, whose forward scan still reads the records ahead of it, done or
// not.
func (s *classicStore) discardDone(pos segment.Pos) {
	from, ok := s.log.DiscardFrom()
	if !ok || pos.Seg != from.Seg || pos.Off < from.Off || s.cur.Seg != from.Seg {
		return
	}
	if end, done := s.idx.Skip(from); done {
		s.log.Discard(segment.Pos{Seg: from.Seg, Off: min(end, s.cur.Off)})
	}
}

func (s *classicStore) removeSegment(id uint32) {
	if err := s.log.Remove(id); err != nil {
		s.logger().Error("store: cannot delete segment", "segment", id, "err", err)
	}
	if err := s.idx.Drop(id); err != nil {
		s.logger().Error("store: cannot delete ack file", "segment", id, "err", err)
	}
}

// requeue puts an in-flight message back among the ready ones at its
// original place; it will be delivered again with redelivered set.
func (s *classicStore) requeue(t Ticket) {
	if s.closed {
		return
	}
	s.requeued.push(t)
	s.ready++
	s.readyB += int64(t.body)
}

func (s *classicStore) readyCount() int { return max(s.ready, 0) }

// takeReadFailure is the error that made the last next find nothing
// although records were ready (not damage: see recover), once.
func (s *classicStore) takeReadFailure() error {
	err := s.readFail
	s.readFail = nil
	return err
}

func (s *classicStore) readyBytes() int64 { return max(s.readyB, 0) }

// purge drops every ready message and returns how many. Segments nobody
// has read from yet are deleted whole, without reading them; only the
// segment under the cursor and the head are walked record by record.
func (s *classicStore) purge() (n int) {
	defer s.recoverFault()
	if s.closed {
		return 0
	}
	before := s.ready
	s.requeued.each(func(e Ticket) {
		s.ready--
		s.readyB -= int64(e.body)
		s.done(e.pos, e.size, e.body, e.persistent)
	})
	s.requeued = nil
	for {
		q, rec, n, err := s.log.Next(s.cur)
		if err == segment.ErrEnd {
			s.cur = q
			break
		}
		if err != nil {
			if !s.recover(q, err) {
				break
			}
			continue
		}
		head, _, hasHead := s.log.Head()
		untouched := q.Seg != s.cur.Seg || s.cur.Off <= segment.DataStart
		if untouched && (!hasHead || q.Seg != head) {
			// Nothing in this segment was ever handed out: every record
			// is ready or done, so the whole file goes.
			c, b := s.idx.Left(q.Seg)
			s.ready -= c
			s.readyB -= b
			s.removeSegment(q.Seg)
			s.cur = segment.Pos{Seg: q.Seg}
			continue
		}
		if end, done := s.idx.Skip(q); done {
			s.cur = segment.Pos{Seg: q.Seg, Off: end}
			continue
		}
		s.cur = segment.Pos{Seg: q.Seg, Off: q.Off + n}
		s.ready--
		s.readyB -= int64(len(rec.Body))
		s.done(q, n, uint32(len(rec.Body)), rec.Flags&segment.FlagPersistent != 0)
	}
	if head, _, ok := s.log.Head(); ok && s.idx.Complete(head) {
		s.removeSegment(head) // a purged queue keeps no disk
	}
	if s.ready != 0 {
		s.logger().Error("store: ready count drifted in purge; resetting", "ready", s.ready)
		s.ready, s.readyB = 0, 0
	}
	return max(before, 0)
}

// close releases the store, leaving its files: in-flight messages come back
// on the next open, flagged redelivered.
func (s *classicStore) close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return errors.Join(s.log.Close(), s.idx.Close())
}

// destroy closes the store and deletes its files.
func (s *classicStore) destroy() error {
	err := s.close()
	return errors.Join(err, os.RemoveAll(s.dir))
}

// recoverFault turns a memory fault in a mapping into a failed store: the
// SIGBUS a read raises when a segment file shrank under us (another process,
// a failing disk) becomes a panic on goroutines with debug.SetPanicOnFault,
// and it must stop this queue, not the broker. Other panics go on.
func (s *classicStore) recoverFault() {
	r := recover()
	if r == nil {
		return
	}
	// runtime/debug: a panic from a memory fault implements Addr().
	if _, ok := r.(interface{ Addr() uintptr }); !ok {
		panic(r)
	}
	s.logger().Error("store: a segment mapping faulted (file truncated or I/O error); the queue stops delivering", "err", r)
	s.closed = true
	s.ready, s.readyB = 0, 0
}
