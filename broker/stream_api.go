package broker

// The exported API of streams: what the AMQP 0-9-1 side (netio) and
// RabbitMQ's stream protocol (netio/streamproto) use. A stream is a queue
// with x-queue-type=stream whose store is a log of chunks read
// non-destructively through per-reader offsets (stream_store.go).
//
// Chunks. A chunk is one batch of entries stored as one segment record:
// written whole, read whole. Its bytes are opaque to the store and tagged
// with their encoding (ChunkEncoding): a 0-9-1 publish is stored as a
// one-entry chunk in Warren's own form (EncodingWarren, see
// DecodeWarrenChunk); a stream-protocol publish is stored as the client
// sent its entries (EncodingAMQP10: simple entries holding AMQP 1.0
// encoded messages, sub-entry batches compressed as sent). Offsets count
// messages: a chunk takes Records offsets from FirstOffset on.
//
// Commits. AppendChunk returns a commit generation: the chunk is durable
// once Broker.Watermark().Committed() >= gen, exactly as 0-9-1 confirms
// wait today. Readers only ever see committed chunks (as RabbitMQ's
// readers see only committed chunks), so what a reader got survives a
// kill -9.

import (
	"errors"
	"fmt"
	"time"

	"github.com/warrenmq/warren/segment"
)

// ChunkEncoding says how a chunk's bytes encode its entries.
type ChunkEncoding uint8

const (
	// EncodingWarren: entries in Warren's own form (0-9-1 publishes):
	// exchange, routing key, raw 0-9-1 properties and body per entry;
	// DecodeWarrenChunk walks them.
	EncodingWarren ChunkEncoding = 1
	// EncodingAMQP10: the stream protocol's entries exactly as a publisher
	// sent them: simple entries (AMQP 1.0 encoded messages) and sub-entry
	// batches (compressed as sent). A 0-9-1 reader turns them into 0-9-1
	// messages through the hook set with SetAMQP10ChunkDecoder.
	EncodingAMQP10 ChunkEncoding = 2
)

// StreamConfig is a stream's retention and layout: queue arguments
// x-max-length-bytes, x-max-age and x-stream-max-segment-size-bytes, or
// the same keys of a policy (stream-max-segment-size-bytes, max-age,
// max-length-bytes). Zero means not set.
type StreamConfig struct {
	MaxLengthBytes      int64         // retention by size: whole segments go from the head past it
	MaxAge              time.Duration // retention by age: a segment goes once its newest chunk is older
	MaxSegmentSizeBytes int64         // segment file size; DefaultStreamSegmentSize when 0
}

// DefaultStreamSegmentSize is the segment size of a stream that sets no
// x-stream-max-segment-size-bytes. RabbitMQ's default is 500 MB; Warren's
// is smaller because a restart walks the last segment's chunk headers.
const DefaultStreamSegmentSize = 64 << 20

// StreamConfigFromArguments reads the stream protocol's create arguments
// (string values: "max-length-bytes", "max-age" as "7D"/"1h"/"30m"/"10s",
// "stream-max-segment-size-bytes"; "queue-leader-locator" and
// "initial-cluster-size" are accepted and ignored). An unknown key or a bad
// value is an error naming it.
func StreamConfigFromArguments(args map[string]string) (StreamConfig, error) {
	return streamConfigFromArguments(args)
}

// Errors of stream lookups, for the stream protocol's response codes.
var (
	ErrStreamNotFound = errors.New("stream does not exist")
	ErrNotAStream     = errors.New("queue is not a stream")
	ErrStreamDeleted  = errors.New("stream was deleted")
)

// Stream is a handle on one stream of a vhost. It stays valid after the
// stream is deleted: its calls then fail with ErrStreamDeleted. Safe for
// concurrent use.
type Stream struct {
	q  *Queue
	st *streamStore
}

// Stream looks up the stream name of vhost v: ErrStreamNotFound when no
// queue has that name, ErrNotAStream when the queue is not a stream.
func (v *VHost) Stream(name string) (*Stream, error) { return v.lookupStream(name) }

// StreamFor is Stream for principal p, checked as RabbitMQ checks the
// stream protocol: verb "read" (subscribe, query an offset or a publisher
// sequence), "write" (declare a publisher, publish) or "configure" (create,
// delete) on the stream's name. A refusal is RabbitMQ's 403 *frame.Error
// ("access to queue ... refused for user ..."), checked before the lookup
// so that a missing stream is refused alike. nil p is the broker.
func (v *VHost) StreamFor(p *Principal, name, verb string) (*Stream, error) {
	var pv permVerb
	switch verb {
	case "read":
		pv = permRead
	case "write":
		pv = permWrite
	case "configure":
		pv = permConfigure
	default:
		return nil, fmt.Errorf("stream: unknown permission verb %q", verb)
	}
	if err := v.permitQueue(p, pv, name); err != nil {
		return nil, err
	}
	return v.lookupStream(name)
}

// DeclareStream declares a durable stream (a queue with
// x-queue-type=stream and cfg's arguments) as principal p (nil: the
// broker). created is false when it existed already with equivalent
// arguments; other arguments give RabbitMQ's 406 inequivalent-arg error
// (a *frame.Error), missing permissions a 403.
func (v *VHost) DeclareStream(p *Principal, name string, cfg StreamConfig) (s *Stream, created bool, err error) {
	return v.declareStream(p, name, cfg)
}

// DeleteStream deletes the stream and its files: ErrStreamNotFound or
// ErrNotAStream if name is not a stream. Its readers see ErrStreamDeleted.
func (v *VHost) DeleteStream(p *Principal, name string) error { return v.deleteStream(p, name) }

// Name is the stream's name; VHost its vhost's.
func (s *Stream) Name() string  { return s.q.Name }
func (s *Stream) VHost() string { return s.q.vhost.Name }

// Queue is the queue the stream is (for management and 0-9-1).
func (s *Stream) Queue() *Queue { return s.q }

// Config is the stream's effective retention and segment size (arguments
// merged with policies).
func (s *Stream) Config() StreamConfig { return s.st.configSnapshot() }

// ChunkIn is one chunk to append.
type ChunkIn struct {
	Encoding  ChunkEncoding
	Entries   uint32 // entries in Data (a sub-entry batch counts once)
	Records   uint32 // messages in Data: the offsets the chunk takes (>= 1)
	Timestamp int64  // unix milliseconds; 0: now
	// Filter summarises the x-stream-filter-value values of the chunk's
	// messages (a filtered reader skips chunks that cannot match).
	Filter FilterSummary
	Data   []byte // the chunk's bytes, copied into the log
}

// AppendChunk appends c as one record and returns the offset of its first
// message and the commit generation that covers it (see the package
// comment; 0 only if nothing needs waiting for). err is a storage error (a
// full disk: nack the publish) or ErrStreamDeleted. Readers see the chunk
// once it is committed.
func (s *Stream) AppendChunk(c *ChunkIn) (firstOffset, commitGen uint64, err error) {
	return s.st.appendChunkShared(s.q, c)
}

// FilterSummary is a chunk's filter summary: a 128-bit Bloom filter of the
// x-stream-filter-value values of its messages, and whether some message
// has no value. The zero value is a chunk without filter values.
type FilterSummary struct {
	Bloom      [2]uint64
	Unfiltered bool // a message of the chunk has no filter value
}

// Add notes one message's filter value; AddUnfiltered a message without.
func (f *FilterSummary) Add(value []byte) { f.add(value) }
func (f *FilterSummary) AddUnfiltered()   { f.Unfiltered = true }

// MayContain reports whether a message with value may be in the chunk
// (false positives, never false negatives).
func (f *FilterSummary) MayContain(value []byte) bool { return f.mayContain(value) }

// Filtered reports whether any message of the chunk has a filter value.
func (f *FilterSummary) Filtered() bool { return f.Bloom != [2]uint64{} }

// OffsetKind is how a reader picks its first chunk.
type OffsetKind uint8

const (
	OffsetFirst     OffsetKind = iota // the first chunk still stored
	OffsetLast                        // the last committed chunk
	OffsetNext                        // whatever is appended from now on
	OffsetAbsolute                    // the chunk holding Offset (the first if gone, next if not yet written)
	OffsetTimestamp                   // the first chunk with timestamp >= Timestamp (next if none)
)

// OffsetSpec is where a reader starts.
type OffsetSpec struct {
	Kind      OffsetKind
	Offset    uint64 // OffsetAbsolute
	Timestamp int64  // OffsetTimestamp, unix milliseconds
}

// ReaderOptions shape a reader.
type ReaderOptions struct {
	// Filter: when not empty, chunks whose summary cannot hold any of
	// these values are skipped without reading their bodies.
	// MatchUnfiltered also takes chunks with messages without a value.
	Filter          [][]byte
	MatchUnfiltered bool
	// NoVerify skips the CRC-32C check of each chunk handed out, for a
	// reader whose protocol carries a checksum of its own that the client
	// checks (the stream protocol's). Headers are still checked.
	NoVerify bool
	// OnData, if set, is called (on the committer's goroutine; it must be
	// quick and not call into the broker) each time committed chunks may
	// be past the reader, and once when the stream is deleted. Either it
	// or Notify() tells the reader when to call Next again.
	OnData func()
}

// Chunk is one chunk as a reader hands it out.
type Chunk struct {
	FirstOffset uint64
	Timestamp   int64 // unix milliseconds
	Entries     uint32
	Records     uint32
	Encoding    ChunkEncoding
	Filter      FilterSummary
	// Data is the chunk's bytes, a view straight into the segment
	// mapping: valid until the reader's next call (Next, Close).
	Data []byte
}

// StreamReader reads a stream's committed chunks in order, whole. Used by
// one goroutine at a time; readers do not block each other or appends.
type StreamReader struct {
	r streamReader
}

// NewReader opens a reader at spec.
func (s *Stream) NewReader(spec OffsetSpec, o ReaderOptions) (*StreamReader, error) {
	return s.st.newReader(s.q, spec, o)
}

// Next returns the next committed chunk that passes the reader's filter.
// ok is false when there is none yet: wait for Notify (or OnData) and
// call again. (After passing over a few thousand filtered-out chunks it
// also returns ok false, having signalled Notify/OnData already, so a
// caller on an event loop gets it back.) err is ErrStreamDeleted once the stream is gone, or a
// storage error (a corrupt record is skipped with a log line).
func (r *StreamReader) Next() (c Chunk, ok bool, err error) { return r.r.next() }

// Notify is signalled (capacity 1, never closed) each time committed
// chunks may be past the reader, and when the stream is deleted.
func (r *StreamReader) Notify() <-chan struct{} { return r.r.notify }

// NextOffset is the offset of the first message after the chunks handed
// out so far (where the reader will go on).
func (r *StreamReader) NextOffset() uint64 { return r.r.nextOffset }

// ChunksRead counts chunk bodies handed out; ChunksSkipped chunks passed
// over by the filter without touching their bodies.
func (r *StreamReader) ChunksRead() uint64    { return r.r.read }
func (r *StreamReader) ChunksSkipped() uint64 { return r.r.skipped }

// BytesRead counts the segment bytes the reader has read: every chunk's
// record and chunk headers, and the whole record of each chunk handed
// out. A chunk the filter skips costs its headers only. (The page cache
// is shared and cannot be dropped here, so this is the reader's own
// count, not the disk's: a cold read faults whole pages around them.)
func (r *StreamReader) BytesRead() uint64 { return r.r.bytesRead }

// Hold keeps the Data of every chunk handed out from now on valid until
// Release, even after the reader has moved to another segment (normally
// Data is valid until the next call): a writer gathers several chunks
// and writes them from the mapping at once. Release must follow soon: a
// held mapping keeps its segment's pages mapped.
func (r *StreamReader) Hold() { r.r.holding = true }

// Release ends Hold.
func (r *StreamReader) Release() { r.r.release() }

// Close releases the reader's mapping and its notification.
func (r *StreamReader) Close() { r.r.close() }

// StoreOffset stores a consumer reference's offset (server-side offset
// tracking), durably: written at once, kept across restarts and kill -9.
// reference is at most 255 bytes.
func (s *Stream) StoreOffset(reference string, offset uint64) error {
	return s.st.storeOffset(reference, offset)
}

// QueryOffset returns what StoreOffset last stored for reference.
func (s *Stream) QueryOffset(reference string) (offset uint64, ok bool, err error) {
	return s.st.queryOffset(reference)
}

// StreamStats are a stream's figures for management.
type StreamStats struct {
	FirstOffset    uint64 // offset of the first message stored
	LastOffset     uint64 // first offset of the last committed chunk
	CommittedNext  uint64 // one past the last committed message
	FirstTimestamp int64  // unix ms of the first chunk stored; 0 if empty
	Messages       uint64 // CommittedNext - FirstOffset
	Segments       int
	Bytes          int64 // segment bytes on disk
	Readers        int   // open readers (0-9-1 consumers and stream subscriptions)
	// ChunksRead and ChunksSkipped count, over all readers since the
	// stream was opened, chunk bodies handed out and chunks a filter
	// passed over on their summary alone.
	ChunksRead, ChunksSkipped uint64
	Empty                     bool
}

// Stats returns the stream's figures.
func (s *Stream) Stats() StreamStats { return s.st.stats() }

// Stats of a stream queue, for management: ok is false for other queues.
func (q *Queue) StreamStats() (StreamStats, bool) {
	st, ok := q.streamStore()
	if !ok {
		return StreamStats{}, false
	}
	return st.stats(), true
}

// IsStream reports whether q is a stream. It reads the queue's arguments,
// which never change, so it takes no lock.
func (q *Queue) IsStream() bool { return isStreamArgs(q.Args) }

// StreamOf returns q's stream handle (ok false if q is not a stream).
func (q *Queue) StreamOf() (*Stream, bool) {
	st, ok := q.streamStore()
	if !ok {
		return nil, false
	}
	return &Stream{q: q, st: st}, true
}

// StreamMessage is one 0-9-1 message of a chunk, as DecodeWarrenChunk and
// the AMQP 1.0 decoder hand it out; its slices are views valid during the
// callback only.
type StreamMessage struct {
	Exchange    []byte
	RoutingKey  []byte
	Props       []byte // raw 0-9-1 content-header properties
	Body        []byte
	FilterValue []byte // x-stream-filter-value; nil if none
	HasFilter   bool
}

// DecodeWarrenChunk calls fn with each message of an EncodingWarren chunk
// in order (fn returns false to stop). For the stream protocol's readers
// of chunks published over 0-9-1.
func DecodeWarrenChunk(data []byte, fn func(i int, m *StreamMessage) bool) error {
	var m StreamMessage
	return decodeWarrenChunk(data, &m, fn)
}

// DecodeWarrenChunkWith is DecodeWarrenChunk filling the caller's m, so a
// reader that keeps one allocates nothing per message.
func DecodeWarrenChunkWith(data []byte, m *StreamMessage, fn func(i int, m *StreamMessage) bool) error {
	return decodeWarrenChunk(data, m, fn)
}

// AMQP10ChunkDecoder turns an EncodingAMQP10 chunk (entries as the stream
// protocol sent them) into 0-9-1 messages, calling fn with each message in
// offset order (sub-entry batches decompressed); fn returns false to stop.
// It fills Props with 0-9-1 properties (the AMQP 1.0 properties,
// application properties as headers), Body with the data section, and
// FilterValue if the message carries x-stream-filter-value.
type AMQP10ChunkDecoder func(data []byte, entries uint32, fn func(i int, m *StreamMessage) bool) error

// SetAMQP10ChunkDecoder installs the decoder 0-9-1 readers use for
// stream-protocol chunks (netio/streamproto calls it at init). Without
// one, such chunks are skipped with a log line.
func SetAMQP10ChunkDecoder(d AMQP10ChunkDecoder) { amqp10Decoder.Store(&d) }

// AMQP10Decoder is the decoder SetAMQP10ChunkDecoder installed, or nil.
func AMQP10Decoder() AMQP10ChunkDecoder {
	if d := amqp10Decoder.Load(); d != nil {
		return *d
	}
	return nil
}

// StreamTicket is the Ticket of a 0-9-1 delivery from a stream at offset:
// acking it gives credit and deletes nothing.
func StreamTicket(offset uint64) Ticket {
	return Ticket{pos: segment.Pos{Seg: uint32(offset >> 32), Off: uint32(offset)}, size: 1} // consecutive offsets make one run
}

// StreamDelivered counts n deliveries of a stream queue to 0-9-1
// consumers (they are acked through Queue.Ack like any other).
func (q *Queue) StreamDelivered(n int) {
	q.Delivered.Add(uint64(n))
	q.unackedN.Add(int64(n))
}
