package segment

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/warrenmq/warren/segment/sysfile"
)

// Record is one message as the log stores it. Read returns views into the
// mapping for the byte fields; Append copies them into the segment.
type Record struct {
	Timestamp  int64
	Flags      uint8 // bit 0: FlagPersistent; bit 7 is reserved for the log
	Exchange   []byte
	RoutingKey []byte
	Props      []byte // raw AMQP property flags + list, stored untouched
	Body       []byte
}

// FlagPersistent marks a record that a durable log keeps across a restart
// and fsyncs before its confirm. Records without it are dropped on recovery.
const FlagPersistent uint8 = 1 << 0

// Record layout, all little endian, every record starting 8-byte aligned:
//
//	0  u32 length   bytes after this 8-byte prefix (not counting padding)
//	4  u32 crc32c   over bytes [0,4) and [8, 8+length)
//	8  u8  version  recordVersion
//	9  u8  flags
//	10 u8  exchange length
//	11 u8  routing key length
//	12 u32 props length
//	16 i64 timestamp
//	24 exchange | routing key | props | body
//
// The body length is implied by the others, so the header stays 24 bytes.
// Alignment lets recovery hunt for the next record after a corrupt one by
// trying only every 8th offset. A zero length ends the data: segments are
// preallocated with zeros.
const (
	prefixSize    = 8
	HeaderSize    = 24 // fixed bytes before the exchange name
	recordVersion = 1
	recordAlign   = 8

	// flagPadding marks a filler record that recovery writes over bytes it
	// could not read, so later passes skip them without checking again.
	flagPadding uint8 = 1 << 7
)

// Errors reported by decode; Log methods wrap them with a position.
var (
	errEnd = errors.New("segment: end of data")
	// ErrCorrupt: the bytes at a position are not a record with a good
	// checksum. Log methods return it wrapped in a *CorruptError.
	ErrCorrupt = errors.New("segment: corrupt record")
	errVersion = fmt.Errorf("%w: unknown record version", ErrCorrupt)
)

func alignUp(n int64) int64 { return (n + recordAlign - 1) &^ (recordAlign - 1) }

// RecordSize is the number of segment bytes r takes, padding included.
func RecordSize(r *Record) int64 {
	return alignUp(int64(HeaderSize + len(r.Exchange) + len(r.RoutingKey) + len(r.Props) + len(r.Body)))
}

// recordLen is the record's length field: its bytes after the 8-byte
// prefix, padding excluded.
func recordLen(r *Record) int {
	return HeaderSize - prefixSize + len(r.Exchange) + len(r.RoutingKey) + len(r.Props) + len(r.Body)
}

// encode writes r into dst, which must be exactly RecordSize(r) long.
func encode(dst []byte, r *Record) {
	encodeUnsummed(dst, r)
	n := recordLen(r)
	binary.LittleEndian.PutUint32(dst[4:], checksum(dst[:prefixSize+n]))
}

// encodeUnsummed is encode without the checksum: a non-durable log's
// records have none (see decodeCRC).
func encodeUnsummed(dst []byte, r *Record) {
	n := recordLen(r)
	o := HeaderSize
	o += copy(dst[o:], r.Exchange)
	o += copy(dst[o:], r.RoutingKey)
	o += copy(dst[o:], r.Props)
	o += copy(dst[o:], r.Body)
	clear(dst[o:]) // alignment padding: staging buffers are reused
	binary.LittleEndian.PutUint32(dst[0:], uint32(n))
	putFixed(dst, r)
}

// encodeHeader writes the first HeaderSize bytes of r's encoding, checksum
// included, without needing the rest of the record in one piece.
func encodeHeader(h []byte, r *Record) {
	encodeHeaderUnsummed(h, r)
	c := crc32.Update(0, sysfile.Castagnoli, h[0:4])
	c = crc32.Update(c, sysfile.Castagnoli, h[prefixSize:HeaderSize])
	for _, part := range [...][]byte{r.Exchange, r.RoutingKey, r.Props, r.Body} {
		c = crc32.Update(c, sysfile.Castagnoli, part)
	}
	binary.LittleEndian.PutUint32(h[4:], c)
}

// encodeHeaderUnsummed is encodeHeader without the checksum, for a
// non-durable log (see decodeCRC).
func encodeHeaderUnsummed(h []byte, r *Record) {
	binary.LittleEndian.PutUint32(h[0:], uint32(recordLen(r)))
	putFixed(h, r)
}

func putFixed(dst []byte, r *Record) {
	dst[8] = recordVersion
	dst[9] = r.Flags &^ flagPadding
	dst[10] = uint8(len(r.Exchange))
	dst[11] = uint8(len(r.RoutingKey))
	binary.LittleEndian.PutUint32(dst[12:], uint32(len(r.Props)))
	binary.LittleEndian.PutUint64(dst[16:], uint64(r.Timestamp))
}

// encodePadding fills dst (at least HeaderSize long, aligned) with one
// filler record covering all of it.
func encodePadding(dst []byte) {
	clear(dst)
	n := len(dst) - prefixSize
	binary.LittleEndian.PutUint32(dst[0:], uint32(n))
	dst[8] = recordVersion
	dst[9] = flagPadding
	binary.LittleEndian.PutUint32(dst[4:], checksum(dst))
}

func checksum(rec []byte) uint32 {
	c := crc32.Update(0, sysfile.Castagnoli, rec[0:4])
	return crc32.Update(c, sysfile.Castagnoli, rec[prefixSize:])
}

// decode reads the record at the start of b (which ends at the end of the
// segment's data). It returns the record's aligned size. A padding record
// comes back with flagPadding set and no fields.
func decode(b []byte) (r Record, size int, err error) { return decodeCRC(b, true) }

// DecodeRecord is decode for a reader that maps a segment's bytes itself
// (the stream store's readers): b starts at a record and ends at the end
// of the segment's data; verify checks the CRC. A padding record comes
// back with Padding() set and no fields.
func DecodeRecord(b []byte, verify bool) (r Record, size int, err error) { return decodeCRC(b, verify) }

// Padding reports whether r is a filler record recovery wrote over bytes
// it could not read.
func (r *Record) Padding() bool { return r.Flags&flagPadding != 0 }

// decodeCRC is decode that checks the record's CRC only when verify is set:
// Log.Next leaves it out for the head segment this process is writing,
// whose bytes it wrote itself (most still in the staging buffer), where a
// checksum guards against nothing. Recovery, sealed segments and Read
// verify every record of a durable log. A non-durable log's records carry
// no checksum at all: Open empties its files, so only this process reads
// them back, from the page cache it wrote them into, and the checksum
// (computed at the pwrite and checked by every read of a sealed segment)
// cost 5-11% of the broker's CPU at 1 KiB once a consumer fell behind
// (issue 19, case 2).
func decodeCRC(b []byte, verify bool) (r Record, size int, err error) {
	if len(b) < HeaderSize {
		if len(b) >= 4 && binary.LittleEndian.Uint32(b) == 0 {
			return r, 0, errEnd
		}
		return r, 0, ErrCorrupt
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n == 0 {
		return r, 0, errEnd
	}
	if n < 2 || n > len(b)-prefixSize {
		return r, 0, ErrCorrupt
	}
	rec := b[:prefixSize+n]
	if verify && binary.LittleEndian.Uint32(b[4:]) != checksum(rec) {
		return r, 0, ErrCorrupt
	}
	size = int(alignUp(int64(prefixSize + n)))
	if size > len(b) {
		size = len(b) // the data end is aligned; only a corrupt length lands here
	}
	if b[8] != recordVersion {
		return r, size, errVersion
	}
	r.Flags = b[9]
	if r.Flags&flagPadding != 0 {
		return r, size, nil
	}
	if len(rec) < HeaderSize {
		return r, size, ErrCorrupt
	}
	ex, rk := int(b[10]), int(b[11])
	props := int(binary.LittleEndian.Uint32(b[12:]))
	o := HeaderSize
	if props > len(rec)-o-ex-rk || props < 0 {
		return r, size, ErrCorrupt
	}
	r.Timestamp = int64(binary.LittleEndian.Uint64(b[16:]))
	r.Exchange = rec[o : o+ex : o+ex]
	o += ex
	r.RoutingKey = rec[o : o+rk : o+rk]
	o += rk
	r.Props = rec[o : o+props : o+props]
	o += props
	r.Body = rec[o:len(rec):len(rec)]
	return r, size, nil
}
