package streamproto

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sync"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
	"github.com/warrenmq/warren/frame/amqp10"
)

// Chunks the stream protocol writes (broker.EncodingAMQP10) hold the
// entries exactly as the publisher sent them, then a trailer that the
// deliveries leave out:
//
//	entries | crc u32 | [last publishing id u64 | name len u16 | name] | trailer len u32
//
// crc is the CRC-32 (IEEE) of the entries, the chunk header's, computed
// once at publish rather than per delivery. The trailer length counts the
// whole trailer (8 when the publisher has no name). The publisher's
// sequence makes deduplication crash-safe: it is in the same record as the
// messages it covers.
const minTrailer = 4 + 4

// chunkEntries returns the entries of an EncodingAMQP10 chunk's data and
// their CRC (ok false for data without a valid trailer).
func chunkEntries(data []byte) (entries []byte, crc uint32, ok bool) {
	if len(data) < minTrailer {
		return nil, 0, false
	}
	tl := int(binary.BigEndian.Uint32(data[len(data)-4:]))
	if tl < minTrailer || tl > len(data) {
		return nil, 0, false
	}
	n := len(data) - tl
	return data[:n], binary.BigEndian.Uint32(data[n:]), true
}

// chunkTrailer returns the publisher name and last publishing id in an
// EncodingAMQP10 chunk's trailer (ok false when it has none).
func chunkTrailer(data []byte) (name []byte, seq uint64, ok bool) {
	if len(data) < minTrailer {
		return nil, 0, false
	}
	tl := int(binary.BigEndian.Uint32(data[len(data)-4:]))
	if tl < minTrailer+8+2 || tl > len(data) {
		return nil, 0, false
	}
	t := data[len(data)-tl+4 : len(data)-4]
	seq = binary.BigEndian.Uint64(t)
	n := int(binary.BigEndian.Uint16(t[8:]))
	if 10+n != len(t) {
		return nil, 0, false
	}
	return t[10:], seq, true
}

// appendTrailer appends the trailer of the entries data[:at] for a named
// publisher (name != "") or an unnamed one.
func appendTrailer(data []byte, name string, seq uint64) []byte {
	crc := crc32.ChecksumIEEE(data)
	data = appendU32(data, crc)
	if name == "" {
		return appendU32(data, minTrailer)
	}
	data = appendU64(data, seq)
	data = appendStr(data, name)
	return appendU32(data, uint32(minTrailer+8+2+len(name)))
}

// warrenToAMQP10 converts a 0-9-1 chunk (broker.EncodingWarren) to the
// stream protocol's entries: one simple entry per message, the message
// AMQP 1.0 encoded as RabbitMQ does for 0-9-1 publishes to streams.
func warrenToAMQP10(dst, data []byte) ([]byte, uint32) {
	var n uint32
	var p frame.Properties
	_ = broker.DecodeWarrenChunk(data, func(_ int, m *broker.StreamMessage) bool {
		var err error
		p, err = frame.DecodeProperties(m.Props)
		if err != nil {
			p = frame.Properties{}
		}
		at := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		dst = amqp10.FromAMQP091(dst, &p, string(m.Exchange), string(m.RoutingKey), m.Body)
		binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
		n++
		return true
	})
	return dst, n
}

// Decompressor inflates one sub-entry batch: src (the batch's bytes) into
// dst, which has room for size bytes (the uncompressed size the batch
// declares).
type Decompressor func(dst, src []byte, size int) ([]byte, error)

var (
	decompMu sync.RWMutex
	decomps  = map[uint8]Decompressor{
		CompressionNone: func(dst, src []byte, _ int) ([]byte, error) { return append(dst, src...), nil },
		CompressionGzip: gunzip,
	}
)

// RegisterDecompressor installs the decompressor of a sub-entry codec
// (snappy, lz4, zstd: cmd/warren registers klauspost/compress's). Only
// 0-9-1 readers of stream-protocol chunks need them: stream-protocol
// readers get batches as they were published.
func RegisterDecompressor(codec uint8, d Decompressor) {
	decompMu.Lock()
	decomps[codec] = d
	decompMu.Unlock()
}

func gunzip(dst, src []byte, size int) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(src))
	if err != nil {
		return dst, err
	}
	at := len(dst)
	dst = append(dst, make([]byte, size)...)
	n, err := io.ReadFull(zr, dst[at:])
	return dst[:at+n], err
}

// ErrBadChunk is a chunk whose entries do not parse.
var ErrBadChunk = errors.New("streamproto: malformed chunk entries")

// forEachRecord calls fn with each record (an AMQP 1.0 message) of a
// chunk's entries, decompressing sub-entry batches into scratch.
func forEachRecord(entries []byte, n uint32, scratch *[]byte, fn func(msg []byte) bool) error {
	r := reader{b: entries}
	for i := uint32(0); i < n && len(r.b) > 0; i++ {
		if r.b[0]&SubEntryFlag == 0 {
			size := r.u32()
			msg := r.take(int(size))
			if r.bad {
				return ErrBadChunk
			}
			if !fn(msg) {
				return nil
			}
			continue
		}
		typ := r.u8()
		count := r.u16()
		usize := r.u32()
		data := r.take(int(r.u32()))
		if r.bad || usize > 64<<20 {
			return ErrBadChunk
		}
		codec := (typ >> 4) & 0x7
		decompMu.RLock()
		d := decomps[codec]
		decompMu.RUnlock()
		if d == nil {
			return fmt.Errorf("streamproto: no decompressor for sub-entry codec %d", codec)
		}
		out, err := d((*scratch)[:0], data, int(usize))
		if err != nil {
			return fmt.Errorf("streamproto: sub-entry codec %d: %w", codec, err)
		}
		*scratch = out
		sr := reader{b: out}
		for range count {
			msg := sr.take(int(sr.u32()))
			if sr.bad {
				return ErrBadChunk
			}
			if !fn(msg) {
				return nil
			}
		}
	}
	return nil
}

// decodeForAMQP091 is the broker's AMQP10ChunkDecoder: the 0-9-1 view of a
// stream-protocol chunk.
func decodeForAMQP091(data []byte, entries uint32, fn func(i int, m *broker.StreamMessage) bool) error {
	var scratch, props []byte
	var p frame.Properties
	i := 0
	ents, _, ok := chunkEntries(data)
	if !ok {
		return ErrBadChunk
	}
	return forEachRecord(ents, entries, &scratch, func(msg []byte) bool {
		d, err := amqp10.ToAMQP091(msg, &p)
		sm := broker.StreamMessage{}
		if err != nil {
			// Not an AMQP 1.0 message: the raw bytes are the body, as
			// RabbitMQ delivers what it cannot parse.
			sm.Body = msg
			props = frame.AppendProperties(props[:0], &frame.Properties{})
		} else {
			sm.Exchange, sm.RoutingKey, sm.Body = []byte(d.Exchange), []byte(d.RoutingKey), d.Body
			props = frame.AppendProperties(props[:0], &p)
			// The publish frame's filter value went into the chunk's
			// summary only; a 0-9-1 reader's per-message filter takes the
			// message's own x-stream-filter-value, as over 0-9-1.
			if v, ok := p.Headers["x-stream-filter-value"].(string); ok {
				sm.FilterValue, sm.HasFilter = []byte(v), true
			}
		}
		sm.Props = props
		ok := fn(i, &sm)
		i++
		return ok
	})
}

func init() { broker.SetAMQP10ChunkDecoder(decodeForAMQP091) }
