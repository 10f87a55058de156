package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warrenmq/warren/frame"
	"github.com/warrenmq/warren/segment"
)

var amqp10Decoder atomic.Pointer[AMQP10ChunkDecoder]

// streamStore is a stream's log: one segment log of chunks (stream_format.go),
// read non-destructively by any number of readers (stream_reader.go), each
// through its own read-only mapping and offset, and cut by retention
// (whole segments from the head).
//
// Locks: Queue.mu guards the log (append, remove, close), the next offset
// and the staging scratch, as for every store. s.mu (taken after Queue.mu,
// and alone by readers and the commit callback) guards what readers see:
// the segment list, the committed end, the reader list. Readers never take
// Queue.mu, so they do not contend with publishers beyond s.mu's short
// holds. A reader's OnData runs under s.mu and may take Conn.mailMu and
// Conn.outMu (posting to a connection).
type streamStore struct {
	q   *Queue
	dir string
	log *segment.Log
	wm  Watermark

	// Queue.mu
	nextOff uint64
	scratch []byte
	head    []byte // a 0-9-1 message's entry head
	cancel  func()
	timer   *TimerEntry

	mu      sync.Mutex
	segs    []streamSeg
	vis     streamPos    // the committed end: what readers may read
	pend    []pendCommit // appends waiting for their commit, in order
	readers []*streamReader
	idx     segIndex // the head segment's block summaries (stream_index.go)
	prev    segIndex // the segment before it, sealed
	cfg     StreamConfig
	gone    error // ErrStreamDeleted once closed or destroyed
	offsets *offsetStore

	chunksRead, chunksSkipped atomic.Uint64

	mapMu sync.Mutex         // leaf: the readers' shared mappings
	maps  map[mapKey]*segMap // by segment id (stream_reader.go)
}

// streamSeg is one segment as readers see it.
type streamSeg struct {
	id      uint32
	first   uint64 // first offset of its first chunk
	firstTs int64
	end     uint32 // end of its records written so far
}

// streamPos is a committed end: the segment and end of the data, the next
// offset, and where the last chunk starts.
type streamPos struct {
	seg       uint32
	end       uint32
	next      uint64
	lastSeg   uint32
	lastOff   uint32
	lastFirst uint64
	lastTs    int64
	any       bool
}

type pendCommit struct {
	gen uint64
	pos streamPos
}

func segPath(dir string, id uint32) string { return filepath.Join(dir, fmt.Sprintf("seg.%010d", id)) }

// openStreamStore opens (recovering) the stream store of q. q.mu need not
// be held: q is not shared yet.
func (v *VHost) openStreamStore(q *Queue) (*streamStore, error) {
	dir := v.b.queueDir(v, q.Name, true)
	cfg := streamConfigOf(q)
	vhost, name := v.Name, q.Name
	l, recs, err := segment.Open(dir, segment.Options{
		SegmentSize: streamSegSize(cfg), Durable: true, Syncer: v.b.syncer,
		OnMkdir: func(dir string) error { return writeQueueLabel(dir, vhost, name) },
	})
	if err != nil {
		return nil, err
	}
	s := &streamStore{q: q, dir: dir, log: l, wm: v.b.watermark, cfg: cfg}
	if err := s.recover(recs); err != nil {
		l.Close()
		return nil, err
	}
	removeOrphanBlocks(dir, recs)
	s.offsets = &offsetStore{dir: dir, onMkdir: func() error { return writeQueueLabel(dir, vhost, name) }}
	if err := s.offsets.load(); err != nil {
		l.Close()
		return nil, err
	}
	s.cancel = s.wm.Subscribe(s.committed)
	return s, nil
}

func streamSegSize(c StreamConfig) int64 {
	if c.MaxSegmentSizeBytes > 0 {
		return c.MaxSegmentSizeBytes
	}
	return DefaultStreamSegmentSize
}

// recover rebuilds the segment list from what Open kept: the first chunk
// of each segment, and a walk of the last one for the end.
func (s *streamStore) recover(recs []segment.Recovered) error {
	for i, r := range recs {
		m, err := mapSegment(segPath(s.dir, r.ID))
		if err != nil {
			return err
		}
		seg := streamSeg{id: r.ID, end: r.Used}
		ok := false
		var last streamPos
		walkAll := i == len(recs)-1
		if walkAll {
			s.idx.reset(r.ID) // the head's blocks, from the walk
		}
		for off := uint32(segment.DataStart); off < r.Used; {
			c, size, padding, err := chunkAt(m, off, r.Used, false)
			if err != nil {
				s.logger().Warn("stream: unreadable chunk at recovery; the rest of the segment is skipped", "segment", r.ID, "off", off, "err", err)
				break
			}
			if !padding {
				if !ok {
					seg.first, seg.firstTs, ok = c.FirstOffset, c.Timestamp, true
				}
				last = streamPos{seg: r.ID, end: r.Used, next: c.FirstOffset + uint64(c.Records),
					lastSeg: r.ID, lastOff: off, lastFirst: c.FirstOffset, lastTs: c.Timestamp, any: true}
				if !walkAll {
					break // only the last segment is walked whole
				}
				s.idx.add(off, off+size, c.FirstOffset, c.FirstOffset+uint64(c.Records), &c.Filter)
			}
			off += size
		}
		_ = syscallMunmap(m)
		if !ok {
			continue
		}
		if i == len(recs)-1 {
			s.vis = last
			s.nextOff = last.next
		}
		s.segs = append(s.segs, seg)
	}
	if n := len(s.segs); n > 0 && !s.vis.any {
		// The last segment was unreadable past its first chunk: go on
		// after the last segment whose start we know.
		s.vis = streamPos{seg: s.segs[n-1].id, end: s.segs[n-1].end, next: s.segs[n-1].first + 1, any: true}
		s.nextOff = s.vis.next
	}
	return nil
}

func (s *streamStore) logger() *slog.Logger { return slog.Default().With("stream", s.dir) }

// appendChunk appends one chunk. REQUIRES: q.mu held. head, if not nil, is
// written between the chunk header and c.Data (Warren's entry head).
func (s *streamStore) appendChunk(c *ChunkIn, head []byte) (first, gen uint64, err error) {
	if c.Records == 0 {
		return 0, 0, errors.New("stream: a chunk holds at least one record")
	}
	ts := c.Timestamp
	if ts == 0 {
		ts = time.Now().UnixMilli()
	}
	first = s.nextOff
	s.scratch = append(s.scratch[:0], make([]byte, chunkHeaderSize)...)
	putChunkHeader(s.scratch, c, first)
	s.scratch = append(s.scratch, head...)
	rec := segment.Record{Timestamp: ts, Flags: segment.FlagPersistent, Props: s.scratch, Body: c.Data}
	pos, size, gen, err := s.log.Append(&rec)
	if err != nil {
		return 0, 0, err
	}
	s.nextOff += uint64(c.Records)
	if gen == 0 {
		if err := s.log.Flush(); err != nil {
			return 0, 0, err
		}
	}
	p := streamPos{seg: pos.Seg, end: pos.Off + size, next: s.nextOff, lastSeg: pos.Seg, lastOff: pos.Off, lastFirst: first, lastTs: ts, any: true}
	s.mu.Lock()
	newSeg := false
	if n := len(s.segs); n == 0 || s.segs[n-1].id != pos.Seg {
		s.segs = append(s.segs, streamSeg{id: pos.Seg, first: first, firstTs: ts})
		newSeg = true
	}
	s.segs[len(s.segs)-1].end = p.end
	sealed, sealedSeg := s.indexChunkLocked(pos.Seg, pos.Off, p.end, first, s.nextOff, &c.Filter)
	switch {
	case gen == 0 || s.wm.Committed() >= gen:
		s.pend = s.pend[:0]
		s.publishLocked(p)
	case len(s.pend) > 0 && s.pend[len(s.pend)-1].gen == gen:
		s.pend[len(s.pend)-1].pos = p
	default:
		s.pend = append(s.pend, pendCommit{gen: gen, pos: p})
	}
	s.mu.Unlock()
	if sealed != nil {
		if err := writeBlocks(s.dir, sealedSeg, sealed); err != nil {
			s.logger().Warn("stream: could not write a segment's block summaries; filtered readers will read its chunk headers", "segment", sealedSeg, "err", err)
		}
	}
	if newSeg {
		s.retainLocked(time.Now())
	}
	return first, gen, nil
}

// committed is the Watermark callback: chunks whose generation is
// committed become visible.
func (s *streamStore) committed(g uint64) {
	s.mu.Lock()
	i := 0
	for i < len(s.pend) && s.pend[i].gen <= g {
		i++
	}
	if i > 0 {
		p := s.pend[i-1].pos
		n := copy(s.pend, s.pend[i:])
		s.pend = s.pend[:n]
		s.publishLocked(p)
	}
	s.mu.Unlock()
}

// publishLocked moves the committed end and tells the readers. REQUIRES: s.mu.
func (s *streamStore) publishLocked(p streamPos) {
	if p.next <= s.vis.next && s.vis.any {
		return
	}
	s.vis = p
	s.notifyLocked()
}

func (s *streamStore) notifyLocked() {
	for _, r := range s.readers {
		r.signal()
	}
}

// retainLocked deletes whole segments from the head while the stream is
// over x-max-length-bytes or its oldest segment is past x-max-age. The
// segment being written always stays. REQUIRES: q.mu.
func (s *streamStore) retainLocked(now time.Time) {
	s.mu.Lock()
	cfg := s.cfg
	var drop []uint32
	var total int64
	for _, g := range s.segs {
		total += int64(g.end)
	}
	for len(s.segs) > 1 {
		g := s.segs[0]
		byBytes := cfg.MaxLengthBytes > 0 && total > cfg.MaxLengthBytes
		// A segment's newest chunk is older than the next one's first.
		byAge := cfg.MaxAge > 0 && s.segs[1].firstTs < now.Add(-cfg.MaxAge).UnixMilli()
		if !byBytes && !byAge {
			break
		}
		drop = append(drop, g.id)
		total -= int64(g.end)
		s.segs = s.segs[1:]
	}
	if len(drop) > 0 {
		s.segs = append([]streamSeg(nil), s.segs...)
	}
	s.mu.Unlock()
	for _, id := range drop {
		if err := s.log.Remove(id); err != nil {
			s.logger().Warn("stream: retention could not remove a segment", "segment", id, "err", err)
		}
		removeBlocks(s.dir, id)
	}
	s.armAgeLocked()
}

// armAgeLocked keeps one broker timer entry for age retention: it fires
// when the oldest segment could be past x-max-age. REQUIRES: q.mu.
func (s *streamStore) armAgeLocked() {
	s.mu.Lock()
	age := s.cfg.MaxAge
	var due int64
	if len(s.segs) > 1 {
		due = s.segs[1].firstTs + age.Milliseconds()
	}
	s.mu.Unlock()
	if age <= 0 || s.timer != nil {
		return
	}
	when := time.Now().Add(max(age/10, time.Second))
	if due > 0 {
		when = time.UnixMilli(due + 1)
	}
	q := s.q
	s.timer = q.vhost.b.Timer().At(when, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.deleted || q.st != store(s) {
			return
		}
		s.timer = nil
		s.retainLocked(time.Now())
	})
}

// reconfigureLocked takes a new configuration (a policy changed).
// REQUIRES: q.mu.
func (s *streamStore) reconfigureLocked(c StreamConfig) {
	s.mu.Lock()
	changed := s.cfg != c
	s.cfg = c
	s.mu.Unlock()
	if changed && s.timer != nil {
		s.timer.Cancel()
		s.timer = nil
	}
	s.retainLocked(time.Now())
}

func (s *streamStore) configSnapshot() StreamConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// appendChunkShared is AppendChunk: it takes q.mu.
func (s *streamStore) appendChunkShared(q *Queue, c *ChunkIn) (uint64, uint64, error) {
	q.mu.Lock()
	defer q.unlock()
	if q.deleted || q.st != store(s) {
		return 0, 0, ErrStreamDeleted
	}
	first, gen, err := s.appendChunk(c, nil)
	if err != nil {
		return 0, 0, err
	}
	q.Published.Add(uint64(c.Records))
	return first, gen, nil
}

// The store interface, for 0-9-1 publishes (one chunk per message) and the
// queue's lifecycle. Nothing is ever "ready": 0-9-1 consumers of a stream
// read through their own readers (netio/stream_consumer.go), so the
// queue's dispatch never runs for them.

func (s *streamStore) append(m Message) (uint64, error) {
	var f FilterSummary
	fv, has := filterValueOf(m.Props)
	if has {
		f.add(fv)
	} else {
		f.AddUnfiltered()
	}
	// The entry head goes right after the chunk header; appendChunk builds
	// it in the scratch buffer, so build it in a second one first.
	s.head = warrenEntryHead(s.head[:0], &m, fv, has)
	head := s.head
	c := ChunkIn{Encoding: EncodingWarren, Entries: 1, Records: 1, Timestamp: m.Timestamp, Filter: f, Data: m.Body}
	_, gen, err := s.appendChunk(&c, head)
	return gen, err
}

// filterValueOf reads x-stream-filter-value from raw properties (a
// long string, or a short string).
func filterValueOf(props []byte) ([]byte, bool) {
	f, ok := frame.PropsHeaderField(props, "x-stream-filter-value")
	if !ok {
		return nil, false
	}
	switch f.Tag {
	case 'S', 'x':
		if len(f.Value) >= 4 {
			return f.Value[4:], true
		}
	case 's':
		if len(f.Value) >= 1 {
			return f.Value[1:], true
		}
	}
	return nil, false
}

func (s *streamStore) next() (Ticket, Delivery, bool) { return Ticket{}, Delivery{}, false }
func (s *streamStore) ack(Ticket) error               { return nil }
func (s *streamStore) requeue(Ticket)                 {}
func (s *streamStore) readyCount() int                { return 0 }
func (s *streamStore) purge() int                     { return 0 }

func (s *streamStore) close() error {
	s.stop()
	return s.log.Close()
}

func (s *streamStore) destroy() error {
	s.stop()
	err := s.log.Close()
	if e := os.RemoveAll(s.dir); e != nil && err == nil {
		err = e
	}
	return err
}

// stop ends the commit subscription and the timer, and tells readers.
func (s *streamStore) stop() {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	if s.timer != nil {
		s.timer.Cancel()
		s.timer = nil
	}
	s.mu.Lock()
	s.gone = ErrStreamDeleted
	s.notifyLocked()
	s.mu.Unlock()
	s.offsets.close()
}

func (s *streamStore) stats() StreamStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := StreamStats{Segments: len(s.segs), Readers: len(s.readers), CommittedNext: s.vis.next, LastOffset: s.vis.lastFirst,
		ChunksRead: s.chunksRead.Load(), ChunksSkipped: s.chunksSkipped.Load()}
	for _, g := range s.segs {
		st.Bytes += int64(g.end)
	}
	if len(s.segs) > 0 {
		st.FirstOffset, st.FirstTimestamp = s.segs[0].first, s.segs[0].firstTs
	}
	st.Empty = !s.vis.any || st.CommittedNext <= st.FirstOffset
	if !st.Empty {
		st.Messages = st.CommittedNext - st.FirstOffset
	} else {
		st.FirstOffset = s.vis.next
	}
	return st
}

func (q *Queue) streamStore() (*streamStore, bool) {
	if !q.IsStream() {
		return nil, false // no lock for other queues (management lists them all)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	s, ok := q.st.(*streamStore)
	return s, ok
}

func (s *streamStore) storeOffset(ref string, off uint64) error {
	if len(ref) == 0 || len(ref) > 255 {
		return errors.New("stream: an offset reference is 1 to 255 bytes")
	}
	return s.offsets.store(ref, off)
}

func (s *streamStore) queryOffset(ref string) (uint64, bool, error) {
	off, ok := s.offsets.query(ref)
	return off, ok, nil
}
