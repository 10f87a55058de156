package broker

import (
	"encoding/binary"
	"errors"
)

// A chunk is one segment record: Exchange and RoutingKey empty, Props
// starting with the chunk header below, the rest of Props and the Body
// being the chunk's bytes, contiguous in the record, so a reader hands out
// one slice of the mapping. The record's timestamp is the chunk's.
//
//	0  u8  'S'
//	1  u8  version (1)
//	2  u8  encoding (ChunkEncoding)
//	3  u8  flags: bit 0 a message without filter value
//	4  u32 entries
//	8  u32 records (offsets taken)
//	12 u32 reserved
//	16 u64 first offset
//	24 u64 bloom[0]
//	32 u64 bloom[1]
const chunkHeaderSize = 40

var errBadChunk = errors.New("stream: bad chunk header")

func putChunkHeader(b []byte, c *ChunkIn, first uint64) {
	b[0], b[1], b[2], b[3] = 'S', 1, byte(c.Encoding), 0
	if c.Filter.Unfiltered {
		b[3] = 1
	}
	binary.LittleEndian.PutUint32(b[4:], c.Entries)
	binary.LittleEndian.PutUint32(b[8:], c.Records)
	binary.LittleEndian.PutUint32(b[12:], 0)
	binary.LittleEndian.PutUint64(b[16:], first)
	binary.LittleEndian.PutUint64(b[24:], c.Filter.Bloom[0])
	binary.LittleEndian.PutUint64(b[32:], c.Filter.Bloom[1])
}

// chunkMeta is a chunk header as read back.
type chunkMeta struct {
	first    uint64
	entries  uint32
	records  uint32
	encoding ChunkEncoding
	filter   FilterSummary
}

func readChunkHeader(b []byte) (m chunkMeta, err error) {
	if len(b) < chunkHeaderSize || b[0] != 'S' || b[1] != 1 {
		return m, errBadChunk
	}
	m.encoding = ChunkEncoding(b[2])
	m.filter.Unfiltered = b[3]&1 != 0
	m.entries = binary.LittleEndian.Uint32(b[4:])
	m.records = binary.LittleEndian.Uint32(b[8:])
	m.first = binary.LittleEndian.Uint64(b[16:])
	m.filter.Bloom[0] = binary.LittleEndian.Uint64(b[24:])
	m.filter.Bloom[1] = binary.LittleEndian.Uint64(b[32:])
	if m.records == 0 {
		return m, errBadChunk
	}
	return m, nil
}

// The filter summary: a 128-bit Bloom filter, 3 bits per value from one
// 64-bit hash.
func filterHash(v []byte) uint64 {
	// maphash's seed is random per process; summaries must survive a
	// restart, so use FNV-1a, finalised.
	h := uint64(14695981039346656037)
	for _, c := range v {
		h ^= uint64(c)
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

func (f *FilterSummary) add(v []byte) {
	h := filterHash(v)
	for i := range 3 {
		bit := (h >> (i * 7)) & 127
		f.Bloom[bit>>6] |= 1 << (bit & 63)
	}
}

func (f *FilterSummary) mayContain(v []byte) bool {
	h := filterHash(v)
	for i := range 3 {
		bit := (h >> (i * 7)) & 127
		if f.Bloom[bit>>6]&(1<<(bit&63)) == 0 {
			return false
		}
	}
	return true
}

// Warren's own entry form (EncodingWarren), one per 0-9-1 message:
//
//	u32 length of the rest of the entry
//	u8  exchange length, exchange
//	u8  routing key length, routing key
//	u32 props length, props
//	u16 filter value length (0xffff: none), filter value
//	body (the rest)
const noFilter = 0xffff

// warrenEntryHead appends an entry's bytes before its body to dst.
func warrenEntryHead(dst []byte, m *Message, filter []byte, hasFilter bool) []byte {
	n := 1 + len(m.Exchange) + 1 + len(m.RoutingKey) + 4 + len(m.Props) + 2 + len(filter) + len(m.Body)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	dst = append(dst, byte(len(m.Exchange)))
	dst = append(dst, m.Exchange...)
	dst = append(dst, byte(len(m.RoutingKey)))
	dst = append(dst, m.RoutingKey...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(m.Props)))
	dst = append(dst, m.Props...)
	if hasFilter {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(filter)))
		dst = append(dst, filter...)
	} else {
		dst = binary.LittleEndian.AppendUint16(dst, noFilter)
	}
	return dst
}

func decodeWarrenChunk(data []byte, m *StreamMessage, fn func(int, *StreamMessage) bool) error {
	for i := 0; len(data) > 0; i++ {
		if len(data) < 4 {
			return errBadChunk
		}
		n := int(binary.LittleEndian.Uint32(data))
		if n > len(data)-4 {
			return errBadChunk
		}
		e := data[4 : 4+n]
		data = data[4+n:]
		if len(e) < 1 || int(e[0])+1 > len(e) {
			return errBadChunk
		}
		m.Exchange, e = e[1:1+e[0]], e[1+e[0]:]
		if len(e) < 1 || int(e[0])+1 > len(e) {
			return errBadChunk
		}
		m.RoutingKey, e = e[1:1+e[0]], e[1+e[0]:]
		if len(e) < 4 {
			return errBadChunk
		}
		p := int(binary.LittleEndian.Uint32(e))
		if p > len(e)-4 {
			return errBadChunk
		}
		m.Props, e = e[4:4+p], e[4+p:]
		if len(e) < 2 {
			return errBadChunk
		}
		fl := int(binary.LittleEndian.Uint16(e))
		e = e[2:]
		m.HasFilter, m.FilterValue = false, nil
		if fl != noFilter {
			if fl > len(e) {
				return errBadChunk
			}
			m.HasFilter, m.FilterValue, e = true, e[:fl], e[fl:]
		}
		m.Body = e
		if !fn(i, m) {
			return nil
		}
	}
	return nil
}
