package streamproto

import (
	"sync"
	"time"

	"github.com/warrenmq/warren/broker"
)

// publisher is a declared publisher of the connection.
type publisher struct {
	id     uint8
	stream *broker.Stream
	name   string
	seq    *pubSeq // nil without a name
	gone   bool    // its stream was deleted
}

// pubSeq is a named publisher's deduplication state on one stream: the
// highest publishing id stored. mu is held across the check and the
// append, so two connections using one name never both store an id.
type pubSeq struct {
	mu     sync.Mutex
	last   uint64
	end    uint64 // one past the last chunk that carried last (0: unknown)
	saved  uint64 // last as of the last checkpoint
	loaded bool
}

type dedupKey struct{ vhost, stream, name string }

// dedupRegistry holds the named publishers' sequences, loaded on first use
// from the stream's chunk trailers.
type dedupRegistry struct {
	mu   sync.Mutex
	seqs map[dedupKey]*pubSeq
}

func newDedupRegistry() *dedupRegistry { return &dedupRegistry{seqs: map[dedupKey]*pubSeq{}} }

// get returns the state of name on s, loaded. Callers hold ps.mu while
// they use last.
func (d *dedupRegistry) get(s *broker.Stream, name string) *pubSeq {
	k := dedupKey{s.VHost(), s.Name(), name}
	d.mu.Lock()
	ps := d.seqs[k]
	if ps == nil {
		ps = &pubSeq{}
		d.seqs[k] = ps
	}
	d.mu.Unlock()
	ps.mu.Lock()
	if !ps.loaded {
		ps.last, ps.end = scanSequence(s, name)
		ps.loaded = true
		ps.checkpointLocked(s, name)
	}
	ps.mu.Unlock()
	return ps
}

// A named publisher's sequence is checkpointed as two stored offsets (the
// stream's offset tracking, with references no client sends: they start
// with NUL), so that finding it again reads the chunks written since the
// checkpoint, not the whole stream: the sequence, then the offset the
// scan goes on from. Written in that order, a crash between the two
// leaves an older offset, which only makes the scan longer.
const (
	refSeq = "\x00warren-seq:"
	refEnd = "\x00warren-end:"
)

// checkpointLocked stores ps's sequence if it moved. ps.mu is held.
func (ps *pubSeq) checkpointLocked(s *broker.Stream, name string) {
	if ps.last == ps.saved || ps.end == 0 || len(name) > 255-len(refSeq) {
		return
	}
	if s.StoreOffset(refSeq+name, ps.last) != nil || s.StoreOffset(refEnd+name, ps.end) != nil {
		return
	}
	ps.saved = ps.last
}

// forget drops the states of a deleted stream.
func (d *dedupRegistry) forget(vhost, stream string) {
	d.mu.Lock()
	for k := range d.seqs {
		if k.vhost == vhost && k.stream == stream {
			delete(d.seqs, k)
		}
	}
	d.mu.Unlock()
}

// scanSequence finds name's last publishing id: the checkpoint, then the
// trailers of the chunks written after it. end is one past the last chunk
// read.
func scanSequence(s *broker.Stream, name string) (last, end uint64) {
	spec := broker.OffsetSpec{Kind: broker.OffsetFirst}
	if seq, ok, err := s.QueryOffset(refSeq + name); err == nil && ok {
		if at, ok, err := s.QueryOffset(refEnd + name); err == nil && ok {
			last, spec = seq, broker.OffsetSpec{Kind: broker.OffsetAbsolute, Offset: at}
		}
	}
	r, err := s.NewReader(spec, broker.ReaderOptions{})
	if err != nil {
		return last, 0
	}
	defer r.Close()
	for {
		ch, ok, err := r.Next()
		if err != nil || !ok {
			return last, r.NextOffset()
		}
		if ch.Encoding != broker.EncodingAMQP10 {
			continue
		}
		if n, seq, ok := chunkTrailer(ch.Data); ok && string(n) == name && seq > last {
			last = seq
		}
	}
}

// lookupStream finds a stream the connection's user may read (subscribe,
// query offsets and sequences) or, with write, publish to, as RabbitMQ
// checks the stream protocol.
func (c *conn) lookupStream(name string, write ...bool) (*broker.Stream, error) {
	verb := "read"
	if len(write) > 0 && write[0] {
		verb = "write"
	}
	return c.vhost.StreamFor(c.principal, name, verb)
}

func (c *conn) declarePublisher(r *reader) {
	corr := r.u32()
	id := r.u8()
	ref := r.str()
	stream := r.str()
	if r.bad {
		c.malformed(KeyDeclarePublisher, corr, true)
		return
	}
	code := CodeOK
	if _, dup := c.pubs[id]; dup {
		code = CodePreconditionFailed
	} else if s, err := c.lookupStream(stream, true); err != nil {
		code = streamCode(err)
	} else {
		p := &publisher{id: id, stream: s, name: ref}
		if ref != "" {
			p.seq = c.s.dedup.get(s, ref)
		}
		c.pubs[id] = p
	}
	c.send(func(b []byte) []byte { return AppendResponse(b, KeyDeclarePublisher, corr, code) })
}

func (c *conn) queryPublisherSequence(r *reader) {
	corr := r.u32()
	ref := r.str()
	stream := r.str()
	if r.bad {
		c.malformed(KeyQueryPublisherSequence, corr, true)
		return
	}
	s, err := c.lookupStream(stream)
	if err != nil {
		code := streamCode(err)
		c.send(func(b []byte) []byte { return AppendI64Response(b, KeyQueryPublisherSequence, corr, code, 0) })
		return
	}
	var seq uint64
	if ref != "" {
		ps := c.s.dedup.get(s, ref)
		ps.mu.Lock()
		seq = ps.last
		ps.mu.Unlock()
	}
	c.send(func(b []byte) []byte {
		return AppendI64Response(b, KeyQueryPublisherSequence, corr, CodeOK, int64(seq))
	})
}

func (c *conn) deletePublisher(r *reader) {
	corr := r.u32()
	id := r.u8()
	if r.bad {
		c.malformed(KeyDeletePublisher, corr, true)
		return
	}
	code := CodeOK
	if _, ok := c.pubs[id]; !ok {
		code = CodePublisherDoesNotExist
	} else {
		c.dropPublisher(id)
	}
	c.send(func(b []byte) []byte { return AppendResponse(b, KeyDeletePublisher, corr, code) })
}

// dropPublisher forgets publisher id, checkpointing a named one's sequence.
func (c *conn) dropPublisher(id uint8) {
	p := c.pubs[id]
	delete(c.pubs, id)
	if p != nil && p.seq != nil {
		p.seq.mu.Lock()
		p.seq.checkpointLocked(p.stream, p.name)
		p.seq.mu.Unlock()
	}
}

// maxChunkEntries is the most entries one chunk takes (the chunk header's
// entry count is 16 bits).
const maxChunkEntries = 0xffff

// publish stores a publish frame's messages as one chunk (more if it has
// over 65535 entries) and queues their confirms for the commit.
//
//	v1: publisher u8, count u32, then count × (publishing id u64, entry)
//	v2: publisher u8, count u32, then count × (publishing id u64, filter value string, entry)
//
// where an entry is a simple entry (u32 size, message) or a sub-entry
// batch (u8 type with the top bit set, u16 records, u32 uncompressed size,
// u32 size, bytes); entries are stored as sent. A named publisher's ids at
// or below the stored sequence are duplicates: confirmed, not stored.
func (c *conn) publish(r *reader, version uint16) {
	pid := r.u8()
	n := r.count(12)
	if r.bad {
		c.closeWith(CodeUnknownFrame, "malformed publish")
		return
	}
	p := c.pubs[pid]
	if p == nil {
		// Read the ids to report them, as RabbitMQ does.
		ids := c.ids[:0]
		for range n {
			id := r.u64()
			if version >= 2 {
				r.strv()
			}
			if !skipEntry(r) {
				break
			}
			ids = append(ids, id)
		}
		c.ids = ids
		c.send(func(b []byte) []byte { return AppendPublishError(b, pid, ids, CodePublisherDoesNotExist) })
		return
	}
	if p.seq != nil {
		p.seq.mu.Lock()
		defer p.seq.mu.Unlock()
	}
	data := c.data[:0]
	ids := c.ids[:0]
	dups := c.dups[:0]
	var entries, records uint32
	var filter broker.FilterSummary
	var last uint64
	if p.seq != nil {
		last = p.seq.last
	}
	flush := func() {
		if entries == 0 {
			return
		}
		data = appendTrailer(data, p.name, last)
		c.appendChunk(p, data, entries, records, filter, ids)
		data, ids, entries, records, filter = data[:0], ids[:0], 0, 0, broker.FilterSummary{}
	}
	for range n {
		id := r.u64()
		var fv []byte
		if version >= 2 {
			fv = r.strv()
		}
		start := len(r.b)
		entry := r.b
		recs, ok := entryRecords(r)
		if !ok {
			break
		}
		entry = entry[:start-len(r.b)]
		if p.seq != nil && id <= last {
			dups = append(dups, id)
			continue
		}
		if p.seq != nil {
			last = id
		}
		if version >= 2 {
			if fv != nil {
				filter.Add(fv)
			} else {
				filter.AddUnfiltered()
			}
		}
		data = append(data, entry...)
		ids = append(ids, id)
		entries++
		records += recs
		if entries == maxChunkEntries {
			flush()
		}
	}
	bad := r.bad
	flush()
	if p.seq != nil {
		p.seq.last = last
	}
	if len(dups) > 0 {
		c.mu.Lock()
		start := len(c.confIDs)
		c.confIDs = append(c.confIDs, dups...)
		c.confirms = append(c.confirms, pendingConfirm{pub: pid, start: start, n: len(dups)})
		c.mu.Unlock()
		c.kick()
	}
	c.data, c.ids, c.dups = data, ids, dups
	if p.gone {
		// As RabbitMQ: the client drops its producers of that stream.
		name := p.stream.Name()
		c.send(func(b []byte) []byte { return AppendMetadataUpdate(b, CodeStreamNotAvailable, name) })
		delete(c.pubs, pid)
	}
	if bad {
		c.closeWith(CodeUnknownFrame, "malformed publish")
	}
}

// entryRecords reads one entry and returns how many records it holds.
func entryRecords(r *reader) (uint32, bool) {
	if len(r.b) == 0 {
		r.bad = true
		return 0, false
	}
	if r.b[0]&SubEntryFlag == 0 {
		r.take(int(r.u32()))
		return 1, !r.bad
	}
	r.u8()
	count := r.u16()
	r.u32()
	r.take(int(r.u32()))
	if r.bad || count == 0 {
		r.bad = true
		return 0, false
	}
	return uint32(count), true
}

func skipEntry(r *reader) bool { _, ok := entryRecords(r); return ok }

// appendChunk stores one chunk and queues its confirm (or its error).
func (c *conn) appendChunk(p *publisher, data []byte, entries, records uint32, filter broker.FilterSummary, ids []uint64) {
	wm := c.s.b.Watermark()
	from := wm.Committed() + 1
	first, gen, err := p.stream.AppendChunk(&broker.ChunkIn{
		Encoding: broker.EncodingAMQP10, Entries: entries, Records: records,
		Timestamp: time.Now().UnixMilli(), Filter: filter, Data: data,
	})
	if err == nil && p.seq != nil {
		p.seq.end = first + uint64(records) // p.seq.mu is held by publish
	}
	pc := pendingConfirm{pub: p.id, gen: gen, from: from, q: p.stream.Queue(), n: len(ids)}
	if err != nil {
		pc.gen, pc.errCode = 0, streamCode(err)
		if pc.errCode == CodeStreamDoesNotExist {
			pc.errCode = CodeStreamNotAvailable
			p.gone = true
		}
	}
	c.mu.Lock()
	pc.start = len(c.confIDs)
	c.confIDs = append(c.confIDs, ids...)
	c.confirms = append(c.confirms, pc)
	c.mu.Unlock()
	if gen == 0 || err != nil {
		c.kick()
	}
}
