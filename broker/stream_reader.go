package broker

import (
	"errors"
	"os"
	"sort"
	"syscall"

	"github.com/warrenmq/warren/segment"
)

// streamReader reads committed chunks through a read-only mapping of its
// own, one segment at a time: readers never share the log's mappings, so
// they do not take Queue.mu and do not evict each other's pages. A
// segment deleted by retention under a reader stays readable through the
// reader's mapping until it moves on (the file is unlinked, not cut).
type streamReader struct {
	s      *streamStore
	notify chan struct{}
	onData func()

	filter          [][]byte
	matchUnfiltered bool
	noVerify        bool

	seg        uint32  // segment being read; 0 before the first
	off        uint32  // next record in it
	m          []byte  // its mapping (sm.data)
	sm         *segMap // the mapping, shared with the stream's other readers
	nextOffset uint64
	read       uint64
	skipped    uint64
	bytesRead  uint64    // segment bytes this reader's chunks took (see BytesRead)
	holding    bool      // Hold: mappings moved off stay until Release
	held       []*segMap // those mappings
	closed     bool

	// A filtered reader's block summaries of r.seg (stream_index.go).
	blkSeg  uint32
	blkHas  bool // blkSeg is set
	blkFile bool // blocks came from the summary file (or it has none)
	bi      int  // the first block not wholly behind r.off
	blocks  []blockSum
	// lastCounted is 1 + the start of the block whose entry was counted
	// last in bytesRead (a matching block is consulted at each chunk).
	lastCounted uint32
	own         []blockSum // the file's blocks, reused
	fileBuf     []byte
}

func mapSegment(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() == 0 {
		return nil, errors.New("stream: empty segment file")
	}
	return syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
}

func syscallMunmap(b []byte) error {
	if b == nil {
		return nil
	}
	return syscall.Munmap(b)
}

// chunkAt decodes the record at off of mapping m (records end at limit):
// the chunk (Data a view into m), the record's aligned size, and whether
// it is padding left by recovery. verify checks the record's CRC.
func chunkAt(m []byte, off, limit uint32, verify bool) (c Chunk, size uint32, padding bool, err error) {
	if int(limit) > len(m) || off+segment.HeaderSize > limit {
		return c, 0, false, errBadChunk
	}
	rec, n, err := segment.DecodeRecord(m[off:limit], verify)
	if err != nil {
		return c, 0, false, errBadChunk
	}
	size = uint32(n)
	if rec.Padding() {
		return c, size, true, nil
	}
	if len(rec.Props) < chunkHeaderSize {
		return c, size, false, errBadChunk
	}
	meta, err := readChunkHeader(rec.Props[:chunkHeaderSize])
	if err != nil {
		return c, size, false, err
	}
	// The chunk's data is the rest of the record: what follows the chunk
	// header in the props field, and the body, which follows it in place.
	start := off + segment.HeaderSize + uint32(len(rec.Exchange)+len(rec.RoutingKey))
	end := start + uint32(len(rec.Props)+len(rec.Body))
	c = Chunk{FirstOffset: meta.first, Timestamp: rec.Timestamp, Entries: meta.entries,
		Records: meta.records, Encoding: meta.encoding, Filter: meta.filter, Data: m[start+chunkHeaderSize : end]}
	return c, size, false, nil
}

// newReader opens a reader at spec.
func (s *streamStore) newReader(q *Queue, spec OffsetSpec, o ReaderOptions) (*StreamReader, error) {
	R := &StreamReader{r: streamReader{s: s, notify: make(chan struct{}, 1), onData: o.OnData, filter: o.Filter, matchUnfiltered: o.MatchUnfiltered, noVerify: o.NoVerify}}
	r := &R.r
	s.mu.Lock()
	if s.gone != nil {
		s.mu.Unlock()
		return nil, s.gone
	}
	segs := append([]streamSeg(nil), s.segs...)
	vis := s.vis
	s.mu.Unlock()
	// Start at the committed end: "next", and where the others fall back.
	r.seg, r.off, r.nextOffset = vis.seg, vis.end, vis.next
	switch {
	case len(segs) == 0 || !vis.any:
	case spec.Kind == OffsetFirst:
		r.seg, r.off, r.nextOffset = segs[0].id, DataStartOff, segs[0].first
	case spec.Kind == OffsetLast:
		r.seg, r.off, r.nextOffset = vis.lastSeg, vis.lastOff, vis.lastFirst
	case spec.Kind == OffsetAbsolute:
		if spec.Offset < vis.next {
			if err := r.seek(segs, vis, func(c *Chunk) bool { return c.FirstOffset+uint64(c.Records) > spec.Offset }); err != nil {
				return nil, err
			}
		}
	case spec.Kind == OffsetTimestamp:
		if err := r.seekTime(segs, vis, spec.Timestamp); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	if s.gone != nil {
		s.mu.Unlock()
		r.unmap()
		return nil, s.gone
	}
	s.readers = append(s.readers, r)
	s.mu.Unlock()
	return R, nil
}

// skipBudget bounds the chunks one Next passes over (filtered out) before
// it returns "nothing yet" and signals the reader, so a filtered reader
// over a long stream does not hold its caller's loop for seconds.
const skipBudget = 4096

// DataStartOff is where a segment's records start.
const DataStartOff = 16

// seek positions r at the first chunk for which stop is true, from the
// segment that can hold it (by first offsets).
func (r *streamReader) seek(segs []streamSeg, vis streamPos, stop func(*Chunk) bool) error {
	// The last segment whose first chunk does not yet satisfy stop holds
	// the answer (or the next one's first chunk is it).
	i := sort.Search(len(segs), func(i int) bool {
		c := Chunk{FirstOffset: segs[i].first, Records: 1}
		return stop(&c)
	})
	if i > 0 {
		i--
	}
	if i == 0 && stop(&Chunk{FirstOffset: segs[0].first, Records: 1}) {
		r.seg, r.off, r.nextOffset = segs[0].id, DataStartOff, segs[0].first
		return nil
	}
	return r.walk(segs[i:], vis, stop)
}

// walk reads chunk headers from the start of segs[0] until stop is true,
// crossing into later segments; none: the committed end.
func (r *streamReader) walk(segs []streamSeg, vis streamPos, stop func(*Chunk) bool) error {
	for _, g := range segs {
		limit := g.end
		if g.id == vis.seg {
			limit = vis.end
		} else if g.id > vis.seg {
			break
		}
		if err := r.mapSeg(g.id); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // gone to retention meanwhile
			}
			return err
		}
		for off := uint32(DataStartOff); off < limit; {
			c, size, padding, err := chunkAt(r.m, off, limit, false)
			if err != nil {
				break
			}
			if !padding && stop(&c) {
				r.seg, r.off, r.nextOffset = g.id, off, c.FirstOffset
				return nil
			}
			off += size
		}
		if g.id == vis.seg {
			break
		}
	}
	r.seg, r.off, r.nextOffset = vis.seg, vis.end, vis.next
	return nil
}

// seekTime positions r at the first chunk with a timestamp >= ts.
func (r *streamReader) seekTime(segs []streamSeg, vis streamPos, ts int64) error {
	if ts <= segs[0].firstTs {
		r.seg, r.off, r.nextOffset = segs[0].id, DataStartOff, segs[0].first
		return nil
	}
	i := sort.Search(len(segs), func(i int) bool { return segs[i].firstTs >= ts })
	if i > 0 {
		i--
	}
	return r.walk(segs[i:], vis, func(c *Chunk) bool { return c.Timestamp >= ts })
}

func (r *streamReader) mapSeg(id uint32) error { return r.mapSegAtLeast(id, 0) }

// mapSegAtLeast makes r's mapping segment id's, at least need bytes long.
func (r *streamReader) mapSegAtLeast(id, need uint32) error {
	if r.sm != nil && r.sm.key.id == id && len(r.m) >= int(need) {
		return nil
	}
	r.unmap()
	sm, err := r.s.acquireMap(mapKey{id, len(r.filter) > 0}, need)
	if err != nil {
		return err
	}
	r.sm, r.m = sm, sm.data
	return nil
}

func (r *streamReader) unmap() {
	if r.sm != nil {
		if r.holding {
			r.held = append(r.held, r.sm)
		} else {
			r.s.releaseMap(r.sm)
		}
		r.sm, r.m = nil, nil
	}
}

// release ends a hold: the mappings the reader moved off meanwhile go.
func (r *streamReader) release() {
	r.holding = false
	for i, m := range r.held {
		r.s.releaseMap(m)
		r.held[i] = nil
	}
	r.held = r.held[:0]
}

// segMap is a read-only mapping of one segment file, shared by the
// stream's readers on that segment (so an added reader faults no page in
// again), unmapped when the last one moves on. Guarded by streamStore.mapMu.
type segMap struct {
	key  mapKey
	data []byte
	refs int
}

// mapKey names a shared mapping. Filtered readers share their own,
// madvise(MADV_RANDOM): a fault in a default mapping reads around it
// (on the kernels we run, a few pages touched in a cold 17 MB segment
// read all of it), which is what a reader of every chunk wants and undoes
// a filtered reader's skipping (cmd/warren TestStreamFilterDisk).
type mapKey struct {
	id     uint32
	random bool
}

// acquireMap returns a mapping of segment k.id at least need bytes long,
// shared with other readers when one exists.
func (s *streamStore) acquireMap(k mapKey, need uint32) (*segMap, error) {
	s.mapMu.Lock()
	defer s.mapMu.Unlock()
	if m := s.maps[k]; m != nil && len(m.data) >= int(need) {
		m.refs++
		return m, nil
	}
	data, err := mapSegment(segPath(s.dir, k.id))
	if err != nil {
		return nil, err
	}
	if len(data) < int(need) {
		_ = syscall.Munmap(data)
		return nil, errBadChunk
	}
	if k.random {
		_ = syscall.Madvise(data, syscall.MADV_RANDOM)
	}
	m := &segMap{key: k, data: data, refs: 1}
	if s.maps == nil {
		s.maps = map[mapKey]*segMap{}
	}
	s.maps[k] = m // a smaller one stays with its holders until they release it
	return m, nil
}

func (s *streamStore) releaseMap(m *segMap) {
	s.mapMu.Lock()
	defer s.mapMu.Unlock()
	if m.refs--; m.refs > 0 {
		return
	}
	if s.maps[m.key] == m {
		delete(s.maps, m.key)
	}
	_ = syscall.Munmap(m.data)
	m.data = nil
}

// signal tells the reader there may be more. REQUIRES: s.mu.
func (r *streamReader) signal() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
	if r.onData != nil {
		r.onData()
	}
}

func (r *streamReader) next() (Chunk, bool, error) {
	if r.closed {
		return Chunk{}, false, ErrStreamDeleted
	}
	s := r.s
	passed := 0
	for {
		if passed >= skipBudget {
			// A long run of chunks the filter passes over: give the
			// caller its loop back and tell it to call again at once.
			s.mu.Lock()
			r.signal()
			s.mu.Unlock()
			return Chunk{}, false, nil
		}
		s.mu.Lock()
		if s.gone != nil {
			s.mu.Unlock()
			return Chunk{}, false, s.gone
		}
		vis := s.vis
		var limit uint32
		var next uint32
		found := false
		var mem []blockSum
		var open blockSum
		inMem := false
		if len(r.filter) > 0 {
			switch {
			case s.idx.has && s.idx.seg == r.seg:
				mem, inMem = s.idx.blocks, true
				if s.idx.isOpen {
					open = s.idx.open
				}
			case s.prev.has && s.prev.seg == r.seg:
				mem, inMem = s.prev.blocks, true
			}
		}
		i := sort.Search(len(s.segs), func(i int) bool { return s.segs[i].id >= r.seg })
		if i < len(s.segs) && s.segs[i].id == r.seg {
			found = true
			limit = s.segs[i].end
			if r.seg == vis.seg {
				limit = vis.end
			} else if i+1 < len(s.segs) && s.segs[i+1].id <= vis.seg {
				next = s.segs[i+1].id
			}
		} else if len(s.segs) > 0 && (r.seg < s.segs[0].id || r.seg == 0) && vis.any {
			// Retention removed the reader's segment (or it started on
			// an empty stream): go on from the first one.
			r.seg, r.off, r.nextOffset = s.segs[0].id, DataStartOff, max(r.nextOffset, s.segs[0].first)
			s.mu.Unlock()
			continue
		} else if i < len(s.segs) && s.segs[i].id <= vis.seg && vis.any {
			// The reader's segment was never kept (empty): the next.
			r.seg, r.off = s.segs[i].id, DataStartOff
			s.mu.Unlock()
			continue
		}
		s.mu.Unlock()
		if !found || !vis.any || r.seg > vis.seg {
			return Chunk{}, false, nil
		}
		if r.off >= limit {
			if next == 0 {
				return Chunk{}, false, nil
			}
			r.seg, r.off = next, DataStartOff
			continue
		}
		if len(r.filter) > 0 && r.skipBlock(mem, open, inMem, limit) {
			passed++
			continue
		}
		if err := r.mapSegAtLeast(r.seg, limit); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // retention removed it just now: the list says where to go
			}
			return Chunk{}, false, err
		}
		c, size, padding, err := chunkAt(r.m, r.off, limit, false)
		if err != nil {
			s.logger().Error("stream: unreadable chunk skipped with the rest of its segment", "segment", r.seg, "off", r.off, "err", err)
			r.off = limit
			continue
		}
		r.off += size
		// chunkAt read the record's header and the chunk header, nothing
		// more (without verify): count that much for every chunk passed.
		head := uint64(segment.HeaderSize)
		if !padding {
			head = uint64(cap(r.m[r.off-size:]) - cap(c.Data))
		}
		r.bytesRead += head
		if padding || c.FirstOffset+uint64(c.Records) <= r.nextOffset {
			passed++
			continue
		}
		r.nextOffset = c.FirstOffset + uint64(c.Records)
		if !r.passes(&c.Filter) {
			r.skipped++
			s.chunksSkipped.Add(1)
			passed++
			continue
		}
		if !r.noVerify {
			if _, _, _, err := chunkAt(r.m, r.off-size, limit, true); err != nil {
				s.logger().Error("stream: chunk with a bad checksum skipped", "segment", r.seg, "off", r.off-size, "first_offset", c.FirstOffset)
				continue
			}
		}
		r.read++
		r.bytesRead += uint64(size) - head // the data and the record's tail
		s.chunksRead.Add(1)
		return c, true, nil
	}
}

// passes applies the reader's filter to a chunk's summary.
func (r *streamReader) passes(f *FilterSummary) bool {
	if len(r.filter) == 0 {
		return true
	}
	if f.Unfiltered && r.matchUnfiltered {
		return true
	}
	for _, v := range r.filter {
		if f.mayContain(v) {
			return true
		}
	}
	return false
}

func (r *streamReader) close() {
	if r.closed {
		return
	}
	r.closed = true
	s := r.s
	s.mu.Lock()
	for i, x := range s.readers {
		if x == r {
			s.readers = append(s.readers[:i], s.readers[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
	r.unmap()
	r.release()
}
