package streamproto

import (
	"sync"
	"sync/atomic"

	"github.com/warrenmq/warren/broker"
)

// subscription is one subscribe of the connection. The writer goroutine
// reads chunks under mu (and writes gathered ones under it: their
// mappings must stay); the reader goroutine changes state under mu, and
// credit without it, so a credit frame never waits for a blocked write.
type subscription struct {
	c      *conn
	id     uint8
	stream *broker.Stream
	name   string // consumer name (offset tracking, single active consumer)
	props  map[string]string
	opts   broker.ReaderOptions

	mu     sync.Mutex
	reader *broker.StreamReader
	active bool
	credit atomic.Int64 // chunks the client will take

	// Single active consumer.
	sacKey      sacKey
	sac         bool
	superStream string
}

func (s *subscription) close() { s.setReader(nil) }

// setReader closes the subscription's reader, if any, for r: with r it
// delivers, without it it is idle.
func (s *subscription) setReader(r *broker.StreamReader) {
	s.mu.Lock()
	if s.reader != nil {
		s.reader.Close()
	}
	s.reader, s.active = r, r != nil
	s.mu.Unlock()
}

// start opens the subscription's reader at spec and makes it deliver.
func (s *subscription) start(spec broker.OffsetSpec) error {
	o := s.opts
	o.OnData = s.c.kick
	r, err := s.stream.NewReader(spec, o)
	if err != nil {
		return err
	}
	s.setReader(r)
	s.c.kick()
	return nil
}

// offsetSpec reads an offset specification (type u16, then u64 for
// offset and timestamp).
func offsetSpec(r *reader) (broker.OffsetSpec, bool) {
	switch r.u16() {
	case OffsetFirst:
		return broker.OffsetSpec{Kind: broker.OffsetFirst}, !r.bad
	case OffsetLast:
		return broker.OffsetSpec{Kind: broker.OffsetLast}, !r.bad
	case OffsetNext:
		return broker.OffsetSpec{Kind: broker.OffsetNext}, !r.bad
	case OffsetOffset:
		return broker.OffsetSpec{Kind: broker.OffsetAbsolute, Offset: r.u64()}, !r.bad
	case OffsetTimestamp:
		return broker.OffsetSpec{Kind: broker.OffsetTimestamp, Timestamp: int64(r.u64())}, !r.bad
	}
	return broker.OffsetSpec{}, false
}

// subscribe: subscription id u8, stream, offset spec, credit u16, then
// optionally properties (name, single-active-consumer, super-stream,
// filter.N, match-unfiltered).
func (c *conn) subscribe(r *reader) {
	corr := r.u32()
	id := r.u8()
	stream := r.str()
	spec, specOK := offsetSpec(r)
	credit := r.u16()
	var props map[string]string
	if !r.bad && len(r.b) > 0 {
		props = r.strMap()
	}
	if r.bad {
		c.malformed(KeySubscribe, corr, true)
		return
	}
	reply := func(code uint16) {
		c.send(func(b []byte) []byte { return AppendResponse(b, KeySubscribe, corr, code) })
	}
	if !specOK {
		reply(CodePreconditionFailed)
		return
	}
	c.mu.Lock()
	_, dup := c.subs[id]
	c.mu.Unlock()
	if dup {
		reply(CodeSubscriptionIDAlreadyExists)
		return
	}
	st, err := c.lookupStream(stream)
	if err != nil {
		reply(streamCode(err))
		return
	}
	s := &subscription{c: c, id: id, stream: st, name: props["name"], props: props}
	s.credit.Store(int64(credit))
	if props["single-active-consumer"] == "true" {
		if s.name == "" {
			reply(CodePreconditionFailed)
			return
		}
		s.sac = true
		s.superStream = props["super-stream"]
		s.sacKey = sacKey{vhost: st.VHost(), stream: st.Name(), name: s.name}
	}
	var opts broker.ReaderOptions
	for k, v := range props {
		if len(k) > 7 && k[:7] == "filter." {
			opts.Filter = append(opts.Filter, []byte(v))
		}
	}
	opts.MatchUnfiltered = props["match-unfiltered"] == "true"
	// The deliver carries the entries' CRC-32 and the client checks it.
	opts.NoVerify = true
	s.opts = opts
	if !s.sac {
		o := opts
		o.OnData = c.kick
		rd, err := st.NewReader(spec, o)
		if err != nil {
			reply(streamCode(err))
			return
		}
		s.reader, s.active = rd, true
	}
	c.mu.Lock()
	c.subs[id] = s
	c.mu.Unlock()
	reply(CodeOK)
	if s.sac {
		c.s.sac.join(s, c.partitionIndex(s))
	}
	c.kick()
}

func (c *conn) credit(r *reader) {
	id := r.u8()
	n := r.u16()
	if r.bad {
		c.closeWith(CodeUnknownFrame, "malformed credit")
		return
	}
	c.mu.Lock()
	s := c.subs[id]
	c.mu.Unlock()
	if s == nil {
		c.send(func(b []byte) []byte { return AppendCreditError(b, CodeSubscriptionIDDoesNotExist, id) })
		return
	}
	for {
		old := s.credit.Load()
		if s.credit.CompareAndSwap(old, min(old+int64(n), 1<<20)) {
			break
		}
	}
	c.kick()
}

func (c *conn) unsubscribe(r *reader) {
	corr := r.u32()
	id := r.u8()
	if r.bad {
		c.malformed(KeyUnsubscribe, corr, true)
		return
	}
	code := CodeOK
	if !c.dropSubscription(id) {
		code = CodeSubscriptionIDDoesNotExist
	}
	c.send(func(b []byte) []byte { return AppendResponse(b, KeyUnsubscribe, corr, code) })
}

// dropSubscription removes and closes subscription id (false if none).
func (c *conn) dropSubscription(id uint8) bool {
	c.mu.Lock()
	s := c.subs[id]
	delete(c.subs, id)
	c.mu.Unlock()
	if s == nil {
		return false
	}
	c.s.sac.leave(s)
	s.close()
	return true
}

// storeOffset: reference, stream, offset u64 (no response).
func (c *conn) storeOffset(r *reader) {
	ref := r.str()
	stream := r.str()
	off := r.u64()
	if r.bad || ref == "" || len(ref) > 255 {
		c.closeWith(CodeUnknownFrame, "malformed store offset")
		return
	}
	st, err := c.lookupStream(stream)
	if err != nil {
		return // no response to send, as RabbitMQ
	}
	if err := st.StoreOffset(ref, off); err != nil {
		logDebug("store offset", "stream", stream, "err", err)
	}
}

func (c *conn) queryOffset(r *reader) {
	corr := r.u32()
	ref := r.str()
	stream := r.str()
	if r.bad {
		c.malformed(KeyQueryOffset, corr, true)
		return
	}
	code, off := CodeOK, uint64(0)
	if st, err := c.lookupStream(stream); err != nil {
		code = streamCode(err)
	} else if o, ok, err := st.QueryOffset(ref); err != nil {
		code = CodeInternalError
	} else if !ok {
		code = CodeNoOffset
	} else {
		off = o
	}
	c.send(func(b []byte) []byte { return AppendI64Response(b, KeyQueryOffset, corr, code, int64(off)) })
}

func (c *conn) streamStats(r *reader) {
	corr := r.u32()
	stream := r.str()
	if r.bad {
		c.malformed(KeyStreamStats, corr, true)
		return
	}
	st, err := c.lookupStream(stream)
	if err != nil {
		code := streamCode(err)
		c.send(func(b []byte) []byte { return AppendStats(b, corr, code, nil) })
		return
	}
	ss := st.Stats()
	first, last, committed := int64(-1), int64(-1), int64(-1)
	if !ss.Empty {
		first, last, committed = int64(ss.FirstOffset), int64(ss.LastOffset), int64(ss.LastOffset)
	}
	kv := []StatEntry{{"first_chunk_id", first}, {"last_chunk_id", last}, {"committed_chunk_id", committed}}
	c.send(func(b []byte) []byte { return AppendStats(b, corr, CodeOK, kv) })
}
