// Package streamproto is RabbitMQ's binary stream protocol (the one its
// stream plugin serves on port 5552), over Warren's streams: the command
// codec, the per-connection state machine (peer properties, SASL, tune,
// open, publishers with deduplication and confirms, subscriptions with
// credit and chunk deliveries, offset tracking, super streams, single
// active consumer) and a plain net.Listener server with a goroutine pair
// per connection: the protocol batches messages per frame, so a
// connection's cost is per frame, not per message.
//
// Frames are big endian: size u32 (of what follows), key u16, version
// u16, then the command's fields. A response sets the key's top bit.
// Strings are u16 length + bytes (length -1 is null); bytes are u32
// length + bytes; arrays and maps are u32 count + elements.
package streamproto

import "encoding/binary"

// Command keys.
const (
	KeyDeclarePublisher       uint16 = 1
	KeyPublish                uint16 = 2
	KeyPublishConfirm         uint16 = 3
	KeyPublishError           uint16 = 4
	KeyQueryPublisherSequence uint16 = 5
	KeyDeletePublisher        uint16 = 6
	KeySubscribe              uint16 = 7
	KeyDeliver                uint16 = 8
	KeyCredit                 uint16 = 9
	KeyStoreOffset            uint16 = 10
	KeyQueryOffset            uint16 = 11
	KeyUnsubscribe            uint16 = 12
	KeyCreate                 uint16 = 13
	KeyDelete                 uint16 = 14
	KeyMetadata               uint16 = 15
	KeyMetadataUpdate         uint16 = 16
	KeyPeerProperties         uint16 = 17
	KeySaslHandshake          uint16 = 18
	KeySaslAuthenticate       uint16 = 19
	KeyTune                   uint16 = 20
	KeyOpen                   uint16 = 21
	KeyClose                  uint16 = 22
	KeyHeartbeat              uint16 = 23
	KeyRoute                  uint16 = 24
	KeyPartitions             uint16 = 25
	KeyConsumerUpdate         uint16 = 26
	KeyExchangeCommandVersion uint16 = 27
	KeyStreamStats            uint16 = 28
	KeyCreateSuperStream      uint16 = 29
	KeyDeleteSuperStream      uint16 = 30

	// ResponseFlag marks a response to a command of the same key.
	ResponseFlag uint16 = 0x8000
)

// Response codes.
const (
	CodeOK                          uint16 = 1
	CodeStreamDoesNotExist          uint16 = 2
	CodeSubscriptionIDAlreadyExists uint16 = 3
	CodeSubscriptionIDDoesNotExist  uint16 = 4
	CodeStreamAlreadyExists         uint16 = 5
	CodeStreamNotAvailable          uint16 = 6
	CodeSaslMechanismNotSupported   uint16 = 7
	CodeAuthenticationFailure       uint16 = 8
	CodeSaslError                   uint16 = 9
	CodeSaslChallenge               uint16 = 10
	CodeSaslAuthFailureLoopback     uint16 = 11
	CodeVirtualHostAccessFailure    uint16 = 12
	CodeUnknownFrame                uint16 = 13
	CodeFrameTooLarge               uint16 = 14
	CodeInternalError               uint16 = 15
	CodeAccessRefused               uint16 = 16
	CodePreconditionFailed          uint16 = 17
	CodePublisherDoesNotExist       uint16 = 18
	CodeNoOffset                    uint16 = 19
)

// Offset specification types of subscribe and consumer update.
const (
	OffsetFirst     uint16 = 1
	OffsetLast      uint16 = 2
	OffsetNext      uint16 = 3
	OffsetOffset    uint16 = 4
	OffsetTimestamp uint16 = 5
)

// Chunk format (osiris): the 48-byte header a deliver carries before the
// chunk's entries.
const (
	ChunkHeaderSize = 48
	ChunkMagic      = 0x50 // magic 5, version 0
	ChunkTypeUser   = 0
	// Entry type byte of a sub-entry batch: top bit, then the codec in bits 4-6.
	SubEntryFlag = 0x80
)

// Sub-entry compression codecs.
const (
	CompressionNone   = 0
	CompressionGzip   = 1
	CompressionSnappy = 2
	CompressionLz4    = 3
	CompressionZstd   = 4
)

// reader reads a frame's fields; the first short read makes every later
// one return zero, and err reports it once at the end. Strings and bytes
// are views into the frame.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) take(n int) []byte {
	if r.bad || n < 0 || len(r.b) < n {
		r.bad = true
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u8() uint8 {
	if p := r.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if p := r.take(2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if p := r.take(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if p := r.take(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

// strv reads a string as a view; null (-1) reads as nil.
func (r *reader) strv() []byte {
	n := int16(r.u16())
	if n < 0 {
		return nil
	}
	return r.take(int(n))
}

func (r *reader) str() string { return string(r.strv()) }

// bytesv reads u32-length bytes as a view.
func (r *reader) bytesv() []byte {
	n := int32(r.u32())
	if n < 0 {
		return nil
	}
	return r.take(int(n))
}

// count reads an array or map count, bounded by what the rest of the frame
// could hold at minSize bytes per element.
func (r *reader) count(minSize int) int {
	n := int32(r.u32())
	if n < 0 || int(n)*minSize > len(r.b) {
		r.bad = true
		return 0
	}
	return int(n)
}

func (r *reader) strMap() map[string]string {
	n := r.count(4)
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := r.str()
		m[k] = r.str()
	}
	return m
}

func (r *reader) strList() []string {
	n := r.count(2)
	l := make([]string, 0, n)
	for range n {
		l = append(l, r.str())
	}
	return l
}

// ---- writing: append helpers over a caller's buffer ----

func appendU16(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }
func appendU32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }
func appendU64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

func appendStr(b []byte, s string) []byte {
	if len(s) > 0x7fff {
		s = s[:0x7fff]
	}
	return append(appendU16(b, uint16(len(s))), s...)
}

// begin starts a frame of key (version 1 unless given) and returns where
// its size goes; end patches the size.
func begin(b []byte, key, version uint16) ([]byte, int) {
	at := len(b)
	b = append(b, 0, 0, 0, 0)
	b = appendU16(b, key)
	return appendU16(b, version), at
}

func end(b []byte, at int) []byte {
	binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	return b
}

// AppendResponse appends the plain response (correlation id + code) to key.
func AppendResponse(b []byte, key uint16, corr uint32, code uint16) []byte {
	b, at := begin(b, key|ResponseFlag, 1)
	b = appendU32(b, corr)
	return end(appendU16(b, code), at)
}

// AppendStrMapResponse appends a response carrying a string map (peer
// properties, open's connection properties).
func AppendStrMapResponse(b []byte, key uint16, corr uint32, code uint16, kv [][2]string) []byte {
	b, at := begin(b, key|ResponseFlag, 1)
	b = appendU16(appendU32(b, corr), code)
	b = appendU32(b, uint32(len(kv)))
	for _, p := range kv {
		b = appendStr(appendStr(b, p[0]), p[1])
	}
	return end(b, at)
}

// AppendStrListResponse appends a response carrying a string list (SASL
// mechanisms, route, partitions).
func AppendStrListResponse(b []byte, key uint16, corr uint32, code uint16, l []string) []byte {
	b, at := begin(b, key|ResponseFlag, 1)
	b = appendU16(appendU32(b, corr), code)
	b = appendU32(b, uint32(len(l)))
	for _, s := range l {
		b = appendStr(b, s)
	}
	return end(b, at)
}

// AppendI64Response appends a response carrying one int64 (query offset,
// query publisher sequence).
func AppendI64Response(b []byte, key uint16, corr uint32, code uint16, v int64) []byte {
	b, at := begin(b, key|ResponseFlag, 1)
	b = appendU16(appendU32(b, corr), code)
	return end(appendU64(b, uint64(v)), at)
}

// AppendTune appends the server's tune (frame max, heartbeat seconds).
func AppendTune(b []byte, frameMax, heartbeat uint32) []byte {
	b, at := begin(b, KeyTune, 1)
	return end(appendU32(appendU32(b, frameMax), heartbeat), at)
}

// AppendHeartbeat appends a heartbeat.
func AppendHeartbeat(b []byte) []byte {
	b, at := begin(b, KeyHeartbeat, 1)
	return end(b, at)
}

// AppendClose appends a close request from the server.
func AppendClose(b []byte, corr uint32, code uint16, reason string) []byte {
	b, at := begin(b, KeyClose, 1)
	return end(appendStr(appendU16(appendU32(b, corr), code), reason), at)
}

// AppendConfirmHeader starts a publish confirm of n publishing ids for
// publisher pub; the caller appends n u64 ids and calls end via
// FinishFrame.
func AppendConfirmHeader(b []byte, pub uint8, n int) ([]byte, int) {
	b, at := begin(b, KeyPublishConfirm, 1)
	b = append(b, pub)
	return appendU32(b, uint32(n)), at
}

// FinishFrame patches the size of a frame begun at at.
func FinishFrame(b []byte, at int) []byte { return end(b, at) }

// AppendPublishError appends a publish error for ids, all with code.
func AppendPublishError(b []byte, pub uint8, ids []uint64, code uint16) []byte {
	b, at := begin(b, KeyPublishError, 1)
	b = appendU32(append(b, pub), uint32(len(ids)))
	for _, id := range ids {
		b = appendU16(appendU64(b, id), code)
	}
	return end(b, at)
}

// AppendMetadataUpdate appends a metadata update (stream not available).
func AppendMetadataUpdate(b []byte, code uint16, stream string) []byte {
	b, at := begin(b, KeyMetadataUpdate, 1)
	return end(appendStr(appendU16(b, code), stream), at)
}

// AppendCreditError appends the response a credit for an unknown
// subscription gets (credit has no response otherwise).
func AppendCreditError(b []byte, code uint16, sub uint8) []byte {
	b, at := begin(b, KeyCredit|ResponseFlag, 1)
	return end(append(appendU16(b, code), sub), at)
}

// AppendConsumerUpdate appends the server's consumer update request.
func AppendConsumerUpdate(b []byte, corr uint32, sub uint8, active bool) []byte {
	b, at := begin(b, KeyConsumerUpdate, 1)
	b = append(appendU32(b, corr), sub)
	if active {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	return end(b, at)
}

// Broker is one broker entry of a metadata response.
type Broker struct {
	Ref  uint16
	Host string
	Port uint32
}

// StreamMeta is one stream entry of a metadata response.
type StreamMeta struct {
	Name     string
	Code     uint16
	Leader   uint16 // broker ref; 0xffff = none
	Replicas []uint16
}

// AppendMetadata appends a metadata response.
func AppendMetadata(b []byte, corr uint32, brokers []Broker, streams []StreamMeta) []byte {
	b, at := begin(b, KeyMetadata|ResponseFlag, 1)
	b = appendU32(appendU32(b, corr), uint32(len(brokers)))
	for _, br := range brokers {
		b = appendU32(appendStr(appendU16(b, br.Ref), br.Host), br.Port)
	}
	b = appendU32(b, uint32(len(streams)))
	for _, s := range streams {
		b = appendU16(appendU16(appendStr(b, s.Name), s.Code), s.Leader)
		b = appendU32(b, uint32(len(s.Replicas)))
		for _, r := range s.Replicas {
			b = appendU16(b, r)
		}
	}
	return end(b, at)
}

// CommandVersion is one entry of exchange command versions.
type CommandVersion struct{ Key, Min, Max uint16 }

// AppendCommandVersions appends the exchange command versions response.
func AppendCommandVersions(b []byte, corr uint32, vs []CommandVersion) []byte {
	b, at := begin(b, KeyExchangeCommandVersion|ResponseFlag, 1)
	b = appendU32(appendU16(appendU32(b, corr), CodeOK), uint32(len(vs)))
	for _, v := range vs {
		b = appendU16(appendU16(appendU16(b, v.Key), v.Min), v.Max)
	}
	return end(b, at)
}

// AppendStats appends a stream stats response.
func AppendStats(b []byte, corr uint32, code uint16, kv []StatEntry) []byte {
	b, at := begin(b, KeyStreamStats|ResponseFlag, 1)
	b = appendU32(appendU16(appendU32(b, corr), code), uint32(len(kv)))
	for _, e := range kv {
		b = appendU64(appendStr(b, e.Key), uint64(e.Value))
	}
	return end(b, at)
}

// StatEntry is one stream statistic.
type StatEntry struct {
	Key   string
	Value int64
}

// DeliverPrefixSize is the bytes a deliver (version 1) puts before the
// chunk: size, key, version, subscription id.
const DeliverPrefixSize = 4 + 2 + 2 + 1

// PutDeliverPrefix writes a deliver's prefix for a chunk of chunkLen bytes
// (header included) into p (DeliverPrefixSize bytes).
func PutDeliverPrefix(p []byte, sub uint8, chunkLen int) {
	binary.BigEndian.PutUint32(p, uint32(DeliverPrefixSize-4+chunkLen))
	binary.BigEndian.PutUint16(p[4:], KeyDeliver)
	binary.BigEndian.PutUint16(p[6:], 1)
	p[8] = sub
}

// ChunkHeader is the decoded osiris chunk header.
type ChunkHeader struct {
	Magic      uint8
	Type       uint8
	Entries    uint16
	Records    uint32
	Timestamp  int64
	Epoch      uint64
	FirstOff   uint64
	CRC        uint32
	DataLen    uint32
	TrailerLen uint32
}

// ParseChunkHeader decodes the header at the start of c.
func ParseChunkHeader(c []byte) (ChunkHeader, bool) {
	if len(c) < ChunkHeaderSize {
		return ChunkHeader{}, false
	}
	return ChunkHeader{
		Magic: c[0], Type: c[1],
		Entries:    binary.BigEndian.Uint16(c[2:]),
		Records:    binary.BigEndian.Uint32(c[4:]),
		Timestamp:  int64(binary.BigEndian.Uint64(c[8:])),
		Epoch:      binary.BigEndian.Uint64(c[16:]),
		FirstOff:   binary.BigEndian.Uint64(c[24:]),
		CRC:        binary.BigEndian.Uint32(c[32:]),
		DataLen:    binary.BigEndian.Uint32(c[36:]),
		TrailerLen: binary.BigEndian.Uint32(c[40:]),
	}, true
}

// PutChunkHeader writes h into c[:ChunkHeaderSize] (reserved bytes zero).
func PutChunkHeader(c []byte, h ChunkHeader) {
	c[0], c[1] = h.Magic, h.Type
	binary.BigEndian.PutUint16(c[2:], h.Entries)
	binary.BigEndian.PutUint32(c[4:], h.Records)
	binary.BigEndian.PutUint64(c[8:], uint64(h.Timestamp))
	binary.BigEndian.PutUint64(c[16:], h.Epoch)
	binary.BigEndian.PutUint64(c[24:], h.FirstOff)
	binary.BigEndian.PutUint32(c[32:], h.CRC)
	binary.BigEndian.PutUint32(c[36:], h.DataLen)
	binary.BigEndian.PutUint32(c[40:], h.TrailerLen)
	clear(c[44:ChunkHeaderSize])
}
