package netio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// streamSub is the stream side of a 0-9-1 consumer of a stream queue: a
// broker.StreamReader at the consumer's x-stream-offset, pumped on the
// connection's own loop whenever committed chunks arrive (the reader's
// OnData posts to the loop) or credit comes back (acks, qos, drained
// output). Acks give credit and delete nothing, as RabbitMQ's. The
// classic path pays one nil check (consumer.release, channel.redispatch).
type streamSub struct {
	k      *consumer
	q      *broker.Queue
	r      *broker.StreamReader
	start  uint64 // messages below this offset are not delivered (x-stream-offset N)
	filter [][]byte
	unf    bool

	chunk broker.Chunk // the chunk being delivered, a view valid until r's next call
	have  bool
	idx   int // messages of chunk already handled

	posted atomic.Bool
	pumpFn func()
	eachFn func(int, *broker.StreamMessage) bool // deliverChunk's callback, made once
	more   bool
	closed bool
	props  []byte               // scratch: a delivery's properties with x-stream-offset
	msg    broker.StreamMessage // scratch: the message being delivered
}

// consumeStream is basic.consume on a stream queue.
func (ch *channel) consumeStream(m *frame.BasicConsume, q *broker.Queue, tag string, timeout time.Duration) error {
	prefetch := max(int(ch.prefetchConsumer), int(ch.globalPrefetch.Load()))
	if err := broker.CheckStreamConsume(q, m.NoAck, prefetch); err != nil {
		return err
	}
	opts, err := broker.ParseStreamConsumeArgs(m.Arguments, time.Now())
	if err != nil {
		return err
	}
	st, ok := q.StreamOf()
	if !ok {
		return frame.Errorf(frame.NotFound, "no queue '%s' in vhost '%s'", q.Name, ch.c.vhost.Name)
	}
	k := &consumer{ch: ch, prefetch: ch.prefetchConsumer, timeout: timeout}
	k.bc = broker.Consumer{Tag: tag, NoAck: m.NoAck, Exclusive: m.Exclusive, Args: m.Arguments, D: k}
	ss := &streamSub{k: k, q: q, filter: opts.Filter, unf: opts.MatchUnfiltered}
	if opts.Spec.Kind == broker.OffsetAbsolute {
		ss.start = opts.Spec.Offset
	}
	c := ch.c
	ss.pumpFn = func() { ss.pump() }
	ss.eachFn = ss.each
	r, err := st.NewReader(opts.Spec, broker.ReaderOptions{Filter: opts.Filter, MatchUnfiltered: opts.MatchUnfiltered, OnData: ss.wake})
	if err != nil {
		return frame.Errorf(frame.InternalError, "cannot read stream: %v", err)
	}
	ss.r = r
	k.stream = ss
	err = q.AddStreamConsumer(&k.bc, func() {
		if !m.NoWait {
			b := c.lockOut()
			c.unlockOut(frame.AppendMethodFrame(b, ch.id, &frame.BasicConsumeOk{ConsumerTag: tag}))
		}
	})
	if err != nil {
		r.Close()
		return err
	}
	ch.consumers[tag] = k
	ch.entry.AddConsumer(&k.bc)
	ss.wake()
	return nil
}

// wake schedules a pump on the connection's loop (at most one pending).
// Any goroutine; the reader calls it under the stream's lock.
func (ss *streamSub) wake() {
	if ss.posted.CompareAndSwap(false, true) {
		ss.k.ch.c.post(ss.pumpFn)
	}
}

// close ends the subscription (cancel, channel close). On the loop.
func (ss *streamSub) close() {
	if ss.closed {
		return
	}
	ss.closed = true
	ss.have = false
	ss.r.Close()
}

// pump delivers while the consumer has credit and the reader has chunks.
// On the connection's loop.
func (ss *streamSub) pump() {
	ss.posted.Store(false)
	for n := 0; !ss.closed; n++ {
		if n == pumpBudget {
			ss.wake() // the rest at the loop's next turn: other connections share it
			return
		}
		if ss.k.ch.consumers[ss.k.bc.Tag] != ss.k {
			ss.close()
			return
		}
		if !ss.have {
			c, ok, err := ss.r.Next()
			if err != nil {
				if !errors.Is(err, broker.ErrStreamDeleted) {
					slog.Error("stream consumer: read failed", "queue", ss.q.Name, "err", err)
				}
				return
			}
			if !ok {
				return
			}
			ss.chunk, ss.have, ss.idx = c, true, 0
		}
		if !ss.deliverChunk() {
			return // out of credit: an ack or a drained output wakes us
		}
		ss.have = false
	}
}

// pumpBudget bounds the chunks one pump handles before it yields the loop.
const pumpBudget = 1024

// deliverChunk delivers the rest of the current chunk; false when credit
// ran out first.
func (ss *streamSub) deliverChunk() bool {
	c := &ss.chunk
	ss.more = true
	each := ss.eachFn
	var err error
	switch c.Encoding {
	case broker.EncodingWarren:
		err = broker.DecodeWarrenChunkWith(c.Data, &ss.msg, each)
	case broker.EncodingAMQP10:
		if d := broker.AMQP10Decoder(); d != nil {
			err = d(c.Data, c.Entries, each)
		} else {
			slog.Warn("stream consumer: a stream-protocol chunk skipped: no AMQP 1.0 decoder", "queue", ss.q.Name, "offset", c.FirstOffset)
		}
	default:
		slog.Warn("stream consumer: chunk of unknown encoding skipped", "queue", ss.q.Name, "offset", c.FirstOffset)
	}
	if err != nil {
		slog.Error("stream consumer: bad chunk skipped", "queue", ss.q.Name, "offset", c.FirstOffset, "err", err)
		return true
	}
	return ss.more
}

// each handles message i of the current chunk.
func (ss *streamSub) each(i int, m *broker.StreamMessage) bool {
	if i < ss.idx {
		return true
	}
	off := ss.chunk.FirstOffset + uint64(i)
	if off < ss.start || !ss.matches(m) {
		ss.idx = i + 1
		return true
	}
	if !ss.k.Reserve() {
		ss.more = false
		return false
	}
	ss.deliver(m, off)
	ss.idx = i + 1
	return true
}

// matches applies x-stream-filter to one message (the chunk summary has
// already let the chunk through).
func (ss *streamSub) matches(m *broker.StreamMessage) bool {
	if len(ss.filter) == 0 {
		return true
	}
	if !m.HasFilter {
		return ss.unf
	}
	for _, f := range ss.filter {
		if bytes.Equal(f, m.FilterValue) {
			return true
		}
	}
	return false
}

// deliver writes one message with its x-stream-offset header.
func (ss *streamSub) deliver(m *broker.StreamMessage, off uint64) {
	k := ss.k
	ch := k.ch
	c := ch.c
	ss.props = propsWithStreamOffset(ss.props[:0], m.Props, off)
	ss.q.StreamDelivered(1)
	ch.mu.Lock()
	ch.deliveryTag++
	tag := ch.deliveryTag
	ch.entry.CountDeliver(false, false)
	if ch.unacked.push(tag, ss.q, k, broker.StreamTicket(off)) {
		c.noteUnacked()
	}
	b := c.lockOut()
	b = frame.AppendBasicDeliver(b, ch.id, k.bc.Tag, tag, false, m.Exchange, m.RoutingKey)
	b = frame.AppendContentHeader(b, ch.id, 60, uint64(len(m.Body)), ss.props)
	b = frame.AppendBody(b, ch.id, m.Body, c.frameMax)
	c.unlockOut(b)
	ch.mu.Unlock()
}

// streamNackRefused refuses basic.nack and basic.reject of stream
// deliveries as RabbitMQ does (540, closing the connection); the taken
// deliveries are settled as acks first so the counters stay right.
func (ch *channel) streamNackRefused(runs []settledRun) error {
	for i := range runs {
		if q := runs[i].q; q != nil && q.IsStream() {
			ch.settle(runs, false)
			ch.scratch = clearRuns(runs)
			return broker.StreamRefused(q, "basic.nack and basic.reject")
		}
	}
	return nil
}

// propsWithStreamOffset appends to dst the raw properties props with
// "x-stream-offset" (a signed 64-bit 'l', as RabbitMQ sends it) added at
// the end of the headers table, creating the table if there is none.
// Properties it cannot read in place go through a decode.
func propsWithStreamOffset(dst, props []byte, off uint64) []byte {
	var entry [1 + 15 + 1 + 8]byte
	entry[0] = 15
	copy(entry[1:], "x-stream-offset")
	entry[16] = 'l'
	binary.BigEndian.PutUint64(entry[17:], off)
	if len(props) < 2 {
		dst = binary.BigEndian.AppendUint16(dst, 1<<13)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(entry)))
		return append(dst, entry[:]...)
	}
	flags := binary.BigEndian.Uint16(props)
	if flags&1 != 0 {
		return propsWithStreamOffsetSlow(dst, props, off)
	}
	p := 2
	for _, bit := range []uint16{1 << 15, 1 << 14} { // content-type, content-encoding
		if flags&bit != 0 {
			if p >= len(props) || p+1+int(props[p]) > len(props) {
				return propsWithStreamOffsetSlow(dst, props, off)
			}
			p += 1 + int(props[p])
		}
	}
	if flags&(1<<13) == 0 {
		dst = binary.BigEndian.AppendUint16(dst, flags|1<<13)
		dst = append(dst, props[2:p]...)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(entry)))
		dst = append(dst, entry[:]...)
		return append(dst, props[p:]...)
	}
	if p+4 > len(props) {
		return propsWithStreamOffsetSlow(dst, props, off)
	}
	n := int(binary.BigEndian.Uint32(props[p:]))
	end := p + 4 + n
	if end > len(props) {
		return propsWithStreamOffsetSlow(dst, props, off)
	}
	if _, ok := frame.PropsHeaderField(props, "x-stream-offset"); ok {
		return propsWithStreamOffsetSlow(dst, props, off)
	}
	dst = append(dst, props[:p]...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(n+len(entry)))
	dst = append(dst, props[p+4:end]...)
	dst = append(dst, entry[:]...)
	return append(dst, props[end:]...)
}

func propsWithStreamOffsetSlow(dst, props []byte, off uint64) []byte {
	p, err := frame.DecodeProperties(props)
	if err != nil {
		return append(dst, props...)
	}
	if p.Headers == nil {
		p.Headers = frame.Table{}
	}
	p.Headers["x-stream-offset"] = int64(off)
	return frame.AppendProperties(dst, &p)
}
