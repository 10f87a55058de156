package broker

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"

	"github.com/warrenmq/warren/segment"
	"github.com/warrenmq/warren/segment/sysfile"
)

// A side index of block summaries per segment, so that a filtered reader
// skips runs of chunks, not just chunk bodies. Without it a reader reads
// every chunk's headers to find the next one: 64 bytes per 0-9-1 message
// (each publish is its own chunk), every page of the segment. A block is
// a run of consecutive chunks of one segment with the union of their
// filter summaries: a reader whose filter cannot match it jumps from its
// start to its end on the summary alone.
//
// Blocks end where a chunk's summary differs from the one before it once
// they span a page, and at blockMax bytes: a run of messages carrying one
// value gets a block of its own, a lone message with a rare value costs a
// reader that wants it about one page, and a stream without values (or
// with one) gets a block per blockMax. Skipping less than a page would
// save the count of bytes but no disk read. The cost is one 48-byte entry
// per page at worst (values changing at every message): 1.2% of the
// segment on disk, which a filtered reader reads instead of the headers
// of every chunk (64 bytes each).
//
// The head segment's blocks are in memory (streamStore.idx, under s.mu);
// when the head rolls over they are written next to the segment as
// seg.NNNNNNNNNN.sum (write and rename, no fsync: the file only saves
// reading, a reader without it walks the chunk headers as before), and
// a restart rebuilds the head's from the walk recovery does anyway. A
// sealed segment's blocks are read from that file by each filtered
// reader reaching the segment, so memory stays flat with the stream.
//
// File: u32 magic "WSUM", u32 version (1), u32 blocks, u32 CRC-32C of the
// entries; then per block u32 start, u32 end (record positions in the
// segment), u32 chunks, u32 flags (bit 0: a message without a value),
// u64 first offset, u64 next offset, u64 bloom[0], u64 bloom[1].
const (
	blockMin       = 4 << 10
	blockMax       = 256 << 10
	blockEntrySize = 48
	blockFileHead  = 16
	blockMagic     = 0x4d555357 // "WSUM"
)

// blockSum is one block: records [start, end) of its segment, offsets
// [first, next).
type blockSum struct {
	start, end  uint32
	chunks      uint32
	first, next uint64
	filter      FilterSummary
}

// segIndex is the head segment's blocks: closed ones, and the open one
// chunks are still added to. Readers take blocks (the slice header) under
// s.mu; entries below its length never change, and a new segment gets a
// new slice.
type segIndex struct {
	seg    uint32
	has    bool // seg is set
	blocks []blockSum
	open   blockSum
	isOpen bool
	last   FilterSummary // the last chunk's
}

func sumPath(dir string, id uint32) string { return segPath(dir, id) + ".sum" }

func (f *FilterSummary) union(o *FilterSummary) {
	f.Bloom[0] |= o.Bloom[0]
	f.Bloom[1] |= o.Bloom[1]
	f.Unfiltered = f.Unfiltered || o.Unfiltered
}

// add notes a chunk of the index's segment: records [start, end),
// offsets [first, next).
func (x *segIndex) add(start, end uint32, first, next uint64, f *FilterSummary) {
	same := x.last == *f
	x.last = *f
	if x.isOpen {
		b := &x.open
		span := b.end - b.start
		if span < blockMax && (span < blockMin || same) {
			b.end, b.next = end, next
			b.chunks++
			b.filter.union(f)
			return
		}
		x.blocks = append(x.blocks, *b)
	}
	x.open = blockSum{start: start, end: end, chunks: 1, first: first, next: next, filter: *f}
	x.isOpen = true
}

// seal closes the open block and returns every block.
func (x *segIndex) seal() []blockSum {
	if x.isOpen {
		x.blocks = append(x.blocks, x.open)
		x.isOpen = false
	}
	return x.blocks
}

// reset starts the index of segment id.
func (x *segIndex) reset(id uint32) { *x = segIndex{seg: id, has: true} }

func encodeBlocks(blocks []blockSum) []byte {
	b := make([]byte, blockFileHead, blockFileHead+len(blocks)*blockEntrySize)
	for i := range blocks {
		k := &blocks[i]
		var flags uint32
		if k.filter.Unfiltered {
			flags = 1
		}
		b = binary.LittleEndian.AppendUint32(b, k.start)
		b = binary.LittleEndian.AppendUint32(b, k.end)
		b = binary.LittleEndian.AppendUint32(b, k.chunks)
		b = binary.LittleEndian.AppendUint32(b, flags)
		b = binary.LittleEndian.AppendUint64(b, k.first)
		b = binary.LittleEndian.AppendUint64(b, k.next)
		b = binary.LittleEndian.AppendUint64(b, k.filter.Bloom[0])
		b = binary.LittleEndian.AppendUint64(b, k.filter.Bloom[1])
	}
	binary.LittleEndian.PutUint32(b[0:], blockMagic)
	binary.LittleEndian.PutUint32(b[4:], 1)
	binary.LittleEndian.PutUint32(b[8:], uint32(len(blocks)))
	binary.LittleEndian.PutUint32(b[12:], crc32.Checksum(b[blockFileHead:], sysfile.Castagnoli))
	return b
}

var errBadBlocks = errors.New("stream: bad block summary file")

// decodeBlocks appends the blocks of a summary file to dst.
func decodeBlocks(dst []blockSum, b []byte) ([]blockSum, error) {
	if len(b) < blockFileHead || binary.LittleEndian.Uint32(b) != blockMagic || binary.LittleEndian.Uint32(b[4:]) != 1 {
		return dst, errBadBlocks
	}
	n := int(binary.LittleEndian.Uint32(b[8:]))
	e := b[blockFileHead:]
	if len(e) != n*blockEntrySize || crc32.Checksum(e, sysfile.Castagnoli) != binary.LittleEndian.Uint32(b[12:]) {
		return dst, errBadBlocks
	}
	for ; len(e) > 0; e = e[blockEntrySize:] {
		k := blockSum{
			start:  binary.LittleEndian.Uint32(e),
			end:    binary.LittleEndian.Uint32(e[4:]),
			chunks: binary.LittleEndian.Uint32(e[8:]),
			first:  binary.LittleEndian.Uint64(e[16:]),
			next:   binary.LittleEndian.Uint64(e[24:]),
		}
		k.filter.Unfiltered = binary.LittleEndian.Uint32(e[12:])&1 != 0
		k.filter.Bloom[0] = binary.LittleEndian.Uint64(e[32:])
		k.filter.Bloom[1] = binary.LittleEndian.Uint64(e[40:])
		if k.end <= k.start || k.next <= k.first {
			return dst, errBadBlocks
		}
		dst = append(dst, k)
	}
	return dst, nil
}

// writeBlocks writes segment id's summary file (write, rename).
func writeBlocks(dir string, id uint32, blocks []blockSum) error {
	path := sumPath(dir, id)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, encodeBlocks(blocks), 0o644); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// removeBlocks deletes segment id's summary file, if any.
func removeBlocks(dir string, id uint32) {
	_ = os.Remove(sumPath(dir, id))
	_ = os.Remove(sumPath(dir, id) + ".tmp")
}

// removeOrphanBlocks deletes the summary files of segments that are not
// there: after a machine crash a segment may be gone while its summary
// survived, and a new segment would get its id and its stale blocks.
func removeOrphanBlocks(dir string, recs []segment.Recovered) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	have := make(map[string]bool, len(recs))
	for _, r := range recs {
		have[filepath.Base(segPath(dir, r.ID))] = true
	}
	for _, e := range ents {
		name := e.Name()
		seg, ok := strings.CutSuffix(name, ".sum")
		if !ok {
			seg, ok = strings.CutSuffix(name, ".sum.tmp")
		}
		if ok && strings.HasPrefix(seg, "seg.") && (!have[seg] || strings.HasSuffix(name, ".tmp")) {
			_ = os.Remove(filepath.Join(dir, name))
		}
	}
}

// indexChunkLocked adds a chunk appended at pos (records [pos.Off, end))
// to the head's index. When the log moved on to a new segment, the old
// head's blocks are kept in s.prev and returned (nil: none) for the
// caller to write once s.mu is released. REQUIRES: s.mu.
func (s *streamStore) indexChunkLocked(seg, off, end uint32, first, next uint64, f *FilterSummary) (sealed []blockSum, sealedSeg uint32) {
	if !s.idx.has || s.idx.seg != seg {
		if s.idx.has {
			sealed, sealedSeg = s.idx.seal(), s.idx.seg
			s.prev = segIndex{seg: sealedSeg, has: true, blocks: sealed}
		}
		s.idx.reset(seg)
	}
	s.idx.add(off, end, first, next, f)
	return sealed, sealedSeg
}

// The reader's side: a filtered reader consults the blocks of its
// segment before each chunk.

// skipBlock moves r past the block holding r.off if its summary cannot
// pass the filter; mem is r.seg's blocks when the store has them in
// memory (the head's closed ones, or the segment before it), open the
// head's open block (open.end 0: none), both taken under s.mu; limit is
// the committed end in r.seg. It reports whether it moved.
//
// r.off is always a chunk's start, and a block's summary covers each of
// its chunks, so the reader may leave a block from anywhere inside it
// (it started there, or read the block's first chunks before the block
// was closed).
func (r *streamReader) skipBlock(mem []blockSum, open blockSum, inMem bool, limit uint32) bool {
	if r.blkSeg != r.seg || !r.blkHas {
		r.blkSeg, r.blkHas, r.bi, r.blkFile, r.lastCounted = r.seg, true, 0, false, 0
		r.blocks = nil
	}
	if inMem {
		r.blocks = mem
	} else if !r.blkFile {
		r.loadBlocks()
	}
	for r.bi < len(r.blocks) && r.blocks[r.bi].end <= r.off {
		r.bi++
	}
	var b *blockSum
	switch {
	case r.bi < len(r.blocks):
		b = &r.blocks[r.bi]
	case inMem && open.end > r.off:
		b = &open // a snapshot: the chunks up to open.end are in its summary
	default:
		return false
	}
	if b.start > r.off || b.end > limit {
		return false // a gap (padding), or not all committed yet
	}
	if inMem && r.lastCounted != b.start+1 {
		r.lastCounted = b.start + 1
		r.bytesRead += blockEntrySize // one entry, as if read from the file
	}
	if r.passes(&b.filter) {
		return false // read its chunks, each on its own summary
	}
	r.off = b.end
	r.nextOffset = max(r.nextOffset, b.next)
	r.skipped += uint64(b.chunks)
	r.s.chunksSkipped.Add(uint64(b.chunks))
	return true
}

// loadBlocks reads r.seg's summary file; without one (or a bad one) the
// reader walks that segment's chunk headers.
func (r *streamReader) loadBlocks() {
	r.blkFile = true
	r.blocks = r.own[:0]
	f, err := os.Open(sumPath(r.s.dir, r.seg))
	if err != nil {
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() > 64<<20 {
		return
	}
	n := int(fi.Size())
	if cap(r.fileBuf) < n {
		r.fileBuf = make([]byte, n)
	}
	buf := r.fileBuf[:n]
	if _, err := readFull(f, buf); err != nil {
		return
	}
	r.bytesRead += uint64(n)
	blocks, err := decodeBlocks(r.own[:0], buf)
	if err != nil {
		r.s.logger().Warn("stream: block summaries unreadable; the segment's chunks are read one by one", "file", filepath.Base(sumPath(r.s.dir, r.seg)), "err", err)
		return
	}
	r.own, r.blocks = blocks, blocks
}

func readFull(f *os.File, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := f.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
