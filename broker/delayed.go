package broker

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warrenmq/warren/segment"
)

// A delayed exchange (type x-delayed-message, as RabbitMQ's
// rabbitmq-delayed-message-exchange plugin defines it) holds each message
// with a positive x-delay header until it is due, then routes it through its
// x-delayed-type as if it had been published then.
//
// The plugin keeps every delayed message in a Mnesia table and its index in
// RAM; millions of them cost gigabytes and one Erlang timer drifts. Here the
// messages live on disk, in segment logs bucketed by due time: all messages
// due in [start, start+delayBucketWidth) go to one bucket, a classic store
// (segment log + ack index) of its own directory. In memory there are only
// the buckets (a few dozen bytes each) and, for the one or two buckets about
// to fire, a heap of (due, position) entries: 24 bytes per message of those
// buckets. A bucket is read into that heap loadAhead before it starts, its
// messages fire from the heap at their due time through the broker's one
// timer (one entry per exchange, for its earliest deadline), and a bucket
// whose every message fired is deleted whole.
//
// What fired is one number per bucket, not a mark per message: a bucket's
// messages fire in due order, and any message added to it later is due after
// everything that fired already (it is due after now), so "every message due
// before T fired" says it all. T goes to the bucket's fired file after each
// batch. (Marking each message in the ack index instead costs O(n) per mark:
// due order is random in position order, so the index's sorted runs never
// merge; it measured a third of the firing's CPU.)
//
// A durable exchange keeps persistent messages across a restart: a delayed
// publish is confirmed once its record is on disk (its commit generation),
// and after a restart the buckets are found again from the directory names.
// Firing is at least once: a crash between routing a message and recording
// it done fires it again after the restart.
//
// Locks: delayedExchange.mu is taken with no queue lock held (publish, the
// timer), and a queue lock is never taken while it is held: messages are
// copied out under it and routed after it is released.
type delayedExchange struct {
	v       *VHost
	name    string
	nameB   []byte // name, as fired messages' exchange (shared: routing only reads it)
	dir     string
	durable bool

	mu       sync.Mutex
	buckets  map[int64]*delayBucket
	waiting  bucketHeap // buckets not yet read, earliest start first
	due      dueHeap    // messages of the read buckets, earliest due first
	loaded   []*delayBucket
	reading  *delayBucket // being read into the due heap, a chunk per run (in loaded)
	entry    *TimerEntry
	entryAt  int64 // unix ms the entry is due
	closed   bool
	pending  atomic.Int64 // messages waiting in the buckets this process opened
	lateness func(ms int64)

	// Used by the timer goroutine only, when no lock is held.
	cache   PublishCache
	scratch []*Queue
}

// delayBucket is the store of the messages due in [start, start+width).
type delayBucket struct {
	start   int64
	dir     string
	st      *classicStore // nil until needed (a bucket found at restart)
	loaded  bool          // its messages are in the due heap (all of them: reading is done)
	left    int           // entries in the due heap not yet fired
	readAt  segment.Pos   // reading: where the next chunk starts
	counted bool          // reading: its messages are in pending already
	arena   []byte        // copies of the records read, so firing does not fault the mapping again
	firedTo int64         // every message due before this fired
	firedF  *os.File      // where firedTo is kept (durable, once it moved)
}

type dueEntry struct {
	due   int64
	pos   segment.Pos
	b     *delayBucket
	arena uint32 // 1 + the record's offset in b.arena; 0: read it from the log
}

// Tuning. Variables so tests can make them small.
var (
	// delayBucketWidth is the span of due times one bucket holds, in ms:
	// a bucket is read into memory whole before it fires, so this bounds
	// that memory (24 bytes per message due within one width).
	delayBucketWidth int64 = 1000
	// delayLoadAhead is how long before its start a bucket is read, in
	// ms, so its first messages fire on time. Reading goes a chunk at a
	// time between firings (delayLoadChunk), so it may take most of that.
	delayLoadAhead int64 = 1000
	// delayLoadChunk is the most records one timer run reads into the due
	// heap. Reading a bucket is page faults on its mapping (15-100 us
	// each on these VMs): a whole bucket of 33,000 messages at once held
	// the timer, and so the firing of the bucket before, for up to 85 ms.
	delayLoadChunk = 2048
	// delayArenaMax bounds the copies of a bucket's records kept for
	// firing (beyond it they are read from the log again when due).
	delayArenaMax = 16 << 20
	// delayFireBatch is the most messages one timer run fires; then the
	// timer's other entries get their turn.
	delayFireBatch = 256
	// delayLoadLimit stops reading more buckets while this many messages
	// are in the due heap: after a long downtime every bucket is past due,
	// and reading them all at once would bring them all into memory.
	// Buckets are read in start order, so firing stays in due order.
	delayLoadLimit = 1 << 16
)

// maxDelay is the plugin's limit, Erlang's largest timer: a longer (or a
// non-positive) x-delay is delivered at once.
const maxDelay = 1<<32 - 1

func nowMs() int64 { return time.Now().UnixMilli() }

// openDelayedExchange opens (or, for a durable exchange after a restart,
// finds again) the buckets of exchange name.
func openDelayedExchange(v *VHost, name string, durable bool) (*delayedExchange, error) {
	d := &delayedExchange{v: v, name: name, nameB: []byte(name), durable: durable, buckets: make(map[int64]*delayBucket)}
	if durable {
		d.dir = filepath.Join(v.dir, "delayed", nameDir(name))
	} else {
		d.dir = filepath.Join(v.b.cfg.DataDir, "transient", fmt.Sprintf("delayed-%s-%d", nameDir(name), v.b.nextQID.Add(1)))
	}
	ents, err := os.ReadDir(d.dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("delayed exchange %q: %w", name, err)
	}
	for _, e := range ents {
		start, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil || !e.IsDir() {
			continue
		}
		b := &delayBucket{start: start}
		d.buckets[start] = b
		heap.Push(&d.waiting, b)
	}
	d.mu.Lock()
	d.scheduleLocked()
	d.mu.Unlock()
	return d, nil
}

// delay stores m, due delay ms from now. Its result is a publish's: the
// message is routed nowhere yet (the plugin's route returns no queues, so
// a mandatory publish comes back), and a persistent message in a durable
// exchange is safe once CommitGen is committed.
func (d *delayedExchange) delay(m *Message, delay int64) (PublishResult, error) {
	var res PublishResult
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed { // deleted (or shutting down) since the publish looked it up
		return res, notFoundExchange(d.v, d.name)
	}
	// Rounded up to the next whole ms: a message never fires before
	// its delay has passed.
	due := (time.Now().UnixMicro()+999)/1000 + delay
	b, err := d.bucketLocked(due)
	if err != nil {
		res.Unstored = 1
		faultAppend.report("delayed exchange "+d.name, err)
		return res, nil
	}
	rec := segment.Record{Timestamp: due, Exchange: m.Exchange, RoutingKey: m.RoutingKey, Props: m.Props, Body: m.Body}
	if m.Persistent {
		rec.Flags = segment.FlagPersistent
	}
	pos, gen, err := b.st.appendRecord(&rec)
	if err != nil {
		res.Unstored = 1
		faultAppend.report("delayed exchange "+d.name, err)
		return res, nil
	}
	if b.loaded { // (while it is being read, the reading finds it)
		heap.Push(&d.due, dueEntry{due: due, pos: pos, b: b})
		b.left++
	}
	d.pending.Add(1)
	res.CommitGen = gen
	d.scheduleLocked()
	return res, nil
}

// bucketLocked returns the bucket for due, opening or creating it.
func (d *delayedExchange) bucketLocked(due int64) (*delayBucket, error) {
	start := due - due%delayBucketWidth
	b := d.buckets[start]
	if b == nil {
		b = &delayBucket{start: start}
		if err := d.openBucketLocked(b); err != nil {
			return nil, err
		}
		d.buckets[start] = b
		if start-delayLoadAhead <= nowMs() {
			// Near already: nothing on disk to read, new messages go
			// straight into the due heap.
			b.loaded = true
			d.loaded = append(d.loaded, b)
		} else {
			heap.Push(&d.waiting, b)
		}
		return b, nil
	}
	if b.st == nil {
		if err := d.openBucketLocked(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (d *delayedExchange) openBucketLocked(b *delayBucket) error {
	b.dir = filepath.Join(d.dir, strconv.FormatInt(b.start, 10))
	st, err := openClassicStore(b.dir, storeOptions{Durable: d.durable, SegmentSize: d.v.b.cfg.SegmentSize, Syncer: d.v.b.syncer})
	if err != nil {
		return err
	}
	b.st = st
	if d.durable {
		if buf, err := os.ReadFile(filepath.Join(b.dir, firedFile)); err == nil && len(buf) >= 8 {
			b.firedTo = int64(binary.LittleEndian.Uint64(buf))
		}
	}
	return nil
}

const firedFile = "fired"

// markFiredLocked records that every message of b due before t fired.
func (d *delayedExchange) markFiredLocked(b *delayBucket, t int64) {
	if t <= b.firedTo {
		return
	}
	b.firedTo = t
	if !d.durable {
		return // nothing of it survives a restart anyway
	}
	if b.firedF == nil {
		f, err := os.OpenFile(filepath.Join(b.dir, firedFile), os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			faultAck.report("delayed exchange "+d.name, err)
			return
		}
		b.firedF = f
	}
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], uint64(t))
	if _, err := b.firedF.WriteAt(buf[:], 0); err != nil {
		faultAck.report("delayed exchange "+d.name, err)
	}
}

// close releases b's files; destroy deletes them.
func (b *delayBucket) close(destroy bool) error {
	var errs []error
	if b.firedF != nil {
		errs = append(errs, b.firedF.Close())
		b.firedF = nil
	}
	if b.st != nil {
		if destroy {
			errs = append(errs, b.st.destroy())
		} else {
			errs = append(errs, b.st.close())
		}
	}
	return errors.Join(errs...)
}

// startReadLocked begins reading b into the due heap.
func (d *delayedExchange) startReadLocked(b *delayBucket) {
	d.loaded = append(d.loaded, b)
	b.counted = b.st != nil // opened by a publish since the start: counted then
	if b.st == nil {
		if err := d.openBucketLocked(b); err != nil {
			slog.Error("delayed exchange: cannot open bucket; its messages stay on disk", "exchange", d.name, "bucket", b.start, "err", err)
			b.loaded = true // nothing to read: it goes when its span has passed
			return
		}
	}
	d.reading, b.readAt = b, segment.Pos{}
}

// readChunkLocked reads up to max more of the bucket being read into the
// due heap, and returns how many it read. At the end of the bucket's data
// the bucket is loaded: publishes push into the heap from then on (they
// hold d.mu, as this does, so none is missed or read twice).
func (d *delayedExchange) readChunkLocked(max int) int {
	b := d.reading
	s := b.st
	n := 0
	before := b.left
	defer func() {
		if !b.counted {
			d.pending.Add(int64(b.left - before))
		}
	}()
	for n < max {
		q, rec, size, err := s.log.Next(b.readAt)
		if err == segment.ErrEnd {
			b.loaded = true
			d.reading = nil
			return n
		}
		if err != nil {
			if !s.recover(q, err) {
				slog.Error("delayed exchange: bucket unreadable", "exchange", d.name, "bucket", b.start, "err", err)
				b.loaded = true
				d.reading = nil
				return n
			}
			continue
		}
		n++
		if end, done := s.idx.Skip(q); done {
			b.readAt = segment.Pos{Seg: q.Seg, Off: end}
			continue
		}
		b.readAt = segment.Pos{Seg: q.Seg, Off: q.Off + size}
		if rec.Timestamp < b.firedTo {
			continue // fired before a restart
		}
		e := dueEntry{due: rec.Timestamp, pos: q, b: b}
		if len(b.arena)+arenaRecordSize(&rec) <= delayArenaMax {
			e.arena = uint32(len(b.arena)) + 1
			b.arena = appendArenaRecord(b.arena, &rec)
		}
		heap.Push(&d.due, e)
		b.left++
	}
	return n
}

// A record's copy in a bucket's arena: flags, routing key length, props
// length (u32 LE), body length (u32 LE), then the bytes. The exchange is
// the delayed exchange's own.
func arenaRecordSize(r *segment.Record) int {
	return 10 + len(r.RoutingKey) + len(r.Props) + len(r.Body)
}

func appendArenaRecord(a []byte, r *segment.Record) []byte {
	a = append(a, r.Flags, byte(len(r.RoutingKey)))
	a = binary.LittleEndian.AppendUint32(a, uint32(len(r.Props)))
	a = binary.LittleEndian.AppendUint32(a, uint32(len(r.Body)))
	a = append(a, r.RoutingKey...)
	a = append(a, r.Props...)
	return append(a, r.Body...)
}

// arenaRecord reads back a record appendArenaRecord wrote at off; its
// slices alias the arena.
func arenaRecord(a []byte, off uint32) (flags uint8, key, props, body []byte) {
	a = a[off:]
	flags, kl := a[0], int(a[1])
	pl, bl := int(binary.LittleEndian.Uint32(a[2:])), int(binary.LittleEndian.Uint32(a[6:]))
	a = a[10:]
	return flags, a[:kl:kl], a[kl : kl+pl : kl+pl], a[kl+pl : kl+pl+bl : kl+pl+bl]
}

// readLocked reads the buckets whose time has come into the due heap, at
// most delayLoadChunk records per call, in start order.
func (d *delayedExchange) readLocked(now int64) {
	budget := delayLoadChunk
	for budget > 0 {
		if d.reading == nil {
			if len(d.waiting) == 0 || d.waiting[0].start-delayLoadAhead > now || len(d.due) >= delayLoadLimit {
				return
			}
			d.startReadLocked(heap.Pop(&d.waiting).(*delayBucket))
			if d.reading == nil {
				continue
			}
		}
		budget -= max(d.readChunkLocked(budget), 1)
	}
}

// scheduleLocked makes sure the timer wakes the exchange at its next
// deadline: the earliest due message, the earliest bucket to read, or the
// end of a drained bucket to delete.
func (d *delayedExchange) scheduleLocked() {
	if d.closed {
		return
	}
	next := int64(-1)
	consider := func(t int64) {
		if next < 0 || t < next {
			next = t
		}
	}
	if len(d.due) > 0 {
		consider(d.due[0].due)
	}
	if d.reading != nil {
		consider(0) // more to read: at once, behind the timer's other work
	}
	if len(d.waiting) > 0 && len(d.due) < delayLoadLimit {
		consider(d.waiting[0].start - delayLoadAhead)
	}
	for _, b := range d.loaded {
		if b.left == 0 {
			consider(b.start + delayBucketWidth)
		}
	}
	if next < 0 {
		return
	}
	if d.entry != nil {
		if d.entryAt <= next {
			return
		}
		if !d.entry.Cancel() {
			return // running now: it schedules again when it is done
		}
	}
	d.entryAt = next
	d.entry = d.v.b.Timer().At(time.UnixMilli(next), d.fire)
}

// firedMessage is one message taken out of a bucket, to route.
type firedMessage struct {
	m   Message
	b   *delayBucket
	due int64
}

// fire runs on the timer: it reads the buckets that are near, routes the
// messages that are due (at most delayFireBatch) and deletes drained buckets.
func (d *delayedExchange) fire() {
	d.mu.Lock()
	d.entry = nil
	if d.closed {
		d.mu.Unlock()
		return
	}
	now := nowMs()
	d.readLocked(now)
	batch := d.takeDueLocked(now)
	d.mu.Unlock()

	for i := range batch {
		f := &batch[i]
		if d.lateness != nil {
			d.lateness(nowMs() - f.due)
		}
		_, qs, err := d.v.Publish(nil, &f.m, &d.cache, d.scratch)
		d.scratch = qs
		logErr("delayed exchange: routing a due message failed", err, "exchange", d.name)
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return // not marked done: they fire again after a restart
	}
	for i := range batch {
		f := &batch[i]
		f.b.left--
		d.pending.Add(-1)
		if !f.b.loaded {
			// Fired before its bucket was read to the end (the timer fell
			// behind): what it has not read may be due earlier, so
			// nothing is recorded; after a crash these fire again.
			continue
		}
		if i+1 == len(batch) || batch[i+1].b != f.b {
			to := f.due + 1
			if len(d.due) > 0 && d.due[0].b == f.b && d.due[0].due == f.due {
				// More due in the same ms wait (a batch ends
				// anywhere): record only what is before it, so those
				// fire again after a crash rather than never.
				to = f.due
			}
			d.markFiredLocked(f.b, to)
		}
	}
	d.dropDrainedLocked(nowMs())
	if (len(d.due) > 0 && d.due[0].due <= nowMs()) || d.reading != nil {
		// More are due, or to read: let the timer's other entries run first.
		if d.entry != nil {
			d.entry.Cancel() // one a publish added meanwhile
		}
		d.entryAt = now
		d.entry = d.v.b.Timer().At(time.Now(), d.fire)
		return
	}
	d.scheduleLocked()
}

// takeDueLocked pops the messages due by now, up to a batch, and copies
// them out of their buckets with x-delay negated, as the plugin does, so
// routing them again does not delay them again and consumers can tell.
func (d *delayedExchange) takeDueLocked(now int64) []firedMessage {
	var batch []firedMessage
	for len(d.due) > 0 && d.due[0].due <= now && len(batch) < delayFireBatch {
		e := heap.Pop(&d.due).(dueEntry)
		var flags uint8
		var key, props, body []byte
		if e.arena > 0 {
			// The copy the reading kept: no page fault on the mapping,
			// and no copy either (the arena lives until the bucket goes,
			// after this batch).
			flags, key, props, body = arenaRecord(e.b.arena, e.arena-1)
		} else {
			rec, _, err := e.b.st.log.Read(e.pos)
			if err != nil {
				slog.Error("delayed exchange: due message unreadable; dropping it", "exchange", d.name, "pos", e.pos, "err", err)
				e.b.left--
				d.pending.Add(-1)
				continue
			}
			flags = rec.Flags
			key, body = append([]byte(nil), rec.RoutingKey...), append([]byte(nil), rec.Body...)
			props = rec.Props
		}
		m := Message{
			Exchange:   d.nameB,
			RoutingKey: key,
			Props:      negateDelay(props),
			Body:       body,
			Persistent: flags&segment.FlagPersistent != 0,
			Timestamp:  now,
			fired:      true,
		}
		batch = append(batch, firedMessage{m: m, b: e.b, due: e.due})
	}
	return batch
}

// dropDrainedLocked forgets read buckets whose messages all fired and
// whose span has passed (nothing can be added to them any more) and deletes
// their files on a goroutine of its own: unlinking a segment can take long
// on a busy disk, and the timer (every exchange's firing) must not wait.
func (d *delayedExchange) dropDrainedLocked(now int64) {
	kept := d.loaded[:0]
	var drop []*delayBucket
	for _, b := range d.loaded {
		if b.left > 0 || now < b.start+delayBucketWidth || b == d.reading {
			kept = append(kept, b)
			continue
		}
		drop = append(drop, b)
		b.arena = nil
		delete(d.buckets, b.start)
	}
	if len(drop) > 0 {
		go func() {
			for _, b := range drop {
				logErr("delayed exchange: delete bucket", b.close(true), "exchange", d.name, "bucket", b.start)
			}
		}()
	}
	clear(d.loaded[len(kept):])
	d.loaded = kept
	if len(d.due) == 0 && cap(d.due) > 4096 {
		d.due = nil // let go of a big bucket's heap once it fired
	}
}

// Pending is the number of messages waiting (messages_delayed).
func (d *delayedExchange) Pending() int64 { return d.pending.Load() }

// close stops the exchange's timer entry and closes its buckets; destroy
// also deletes them (exchange.delete).
func (d *delayedExchange) close(destroy bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	if d.entry != nil {
		d.entry.Cancel()
		d.entry = nil
	}
	var errs []error
	for _, b := range d.buckets {
		errs = append(errs, b.close(false))
	}
	d.buckets, d.due, d.waiting, d.loaded, d.reading = nil, nil, nil, nil, nil
	if destroy {
		errs = append(errs, os.RemoveAll(d.dir))
	}
	return errors.Join(errs...)
}

// bucketHeap orders buckets by start.
type bucketHeap []*delayBucket

func (h bucketHeap) Len() int           { return len(h) }
func (h bucketHeap) Less(i, j int) bool { return h[i].start < h[j].start }
func (h bucketHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *bucketHeap) Push(x any)        { *h = append(*h, x.(*delayBucket)) }
func (h *bucketHeap) Pop() any {
	old := *h
	b := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return b
}

// dueHeap orders messages by due time, then position (publish order within
// a bucket).
type dueHeap []dueEntry

func (h dueHeap) Len() int { return len(h) }
func (h dueHeap) Less(i, j int) bool {
	if h[i].due != h[j].due {
		return h[i].due < h[j].due
	}
	return h[i].pos.Less(h[j].pos)
}
func (h dueHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)   { *h = append(*h, x.(dueEntry)) }
func (h *dueHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
