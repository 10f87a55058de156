package broker

import (
	"encoding/binary"
	"testing"
)

// Chunk records and Warren's entries are read from the mapping; whatever
// the bytes, decoding must fail cleanly, never panic or read out of bounds.
func FuzzStreamChunkDecode(f *testing.F) {
	m := Message{Exchange: []byte("x"), RoutingKey: []byte("rk"), Props: []byte{0, 0}, Body: []byte("body")}
	entry := append(warrenEntryHead(nil, &m, []byte("f"), true), m.Body...)
	rec := make([]byte, 16+24+chunkHeaderSize+len(entry)+8)
	binary.LittleEndian.PutUint32(rec[16:], uint32(16+chunkHeaderSize+len(entry)))
	rec[16+8] = 1
	binary.LittleEndian.PutUint32(rec[16+12:], uint32(chunkHeaderSize+len(entry)))
	putChunkHeader(rec[16+24:], &ChunkIn{Encoding: EncodingWarren, Entries: 1, Records: 1}, 7)
	copy(rec[16+24+chunkHeaderSize:], entry)
	f.Add(rec, entry)
	f.Add([]byte{}, []byte{})
	f.Add(make([]byte, 64), []byte{255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, seg, chunk []byte) {
		for off := uint32(16); off < uint32(len(seg)); off += 8 {
			c, _, _, err := chunkAt(seg, off, uint32(len(seg)), true)
			if err == nil {
				_ = decodeWarrenChunk(c.Data, &StreamMessage{}, func(int, *StreamMessage) bool { return true })
			}
		}
		_ = decodeWarrenChunk(chunk, &StreamMessage{}, func(_ int, m *StreamMessage) bool {
			_ = len(m.Body) + len(m.Props) + len(m.FilterValue)
			return true
		})
		_, _ = readChunkHeader(chunk)
	})
}
