package segment

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/warrenmq/warren/segment/sysfile"
)

// A segment file is a 16-byte header, then records from DataStart on. When
// the log moves on to a new segment it seals the old one: a 32-byte footer
// goes right after the last record and the file is cut to end with it. A
// valid footer at the very end of a file is what lets Open skip reading the
// records: only an unsealed segment (a crash while it was being written) is
// scanned record by record with its checksums.
const (
	fileVersion = 1
	// DataStart is the offset of a segment's first record. No record lives
	// at offset 0, so Pos{} never names one.
	DataStart  = 16
	footerSize = 32

	// DefaultSegmentSize is the size of a segment file unless Options says
	// otherwise; a record too big for one gets a segment of its own size.
	DefaultSegmentSize = 8 << 20
	// maxSegmentSize keeps offsets within Pos.Off's 32 bits.
	maxSegmentSize = 1<<32 - 1<<16
)

var (
	fileMagic   = [4]byte{'W', 'S', 'E', 'G'}
	footerMagic = [4]byte{'W', 'F', 'T', 'R'}
)

func putFileHeader(b []byte) {
	copy(b, fileMagic[:])
	b[4] = fileVersion
}

// footer records what Open needs to know about a sealed segment without
// reading its records.
type footer struct {
	used   uint32 // end of the records; the footer starts here
	count  uint32 // records, padding excluded
	pcount uint32 // persistent records: those that survive a restart
	pbody  uint64 // body bytes of the persistent records
}

// Footer layout: magic, used, count, pcount (u32 each), pbody (u64),
// version (u8), 3 zero bytes, crc32c of the first 28 bytes.
func (f *footer) put(b []byte) {
	clear(b[:footerSize])
	copy(b, footerMagic[:])
	binary.LittleEndian.PutUint32(b[4:], f.used)
	binary.LittleEndian.PutUint32(b[8:], f.count)
	binary.LittleEndian.PutUint32(b[12:], f.pcount)
	binary.LittleEndian.PutUint64(b[16:], f.pbody)
	b[24] = fileVersion
	binary.LittleEndian.PutUint32(b[28:], crc32.Checksum(b[:28], sysfile.Castagnoli))
}

// parseFooter checks the footer that should end a file of the given size.
func parseFooter(b []byte, fileSize int64) (footer, error) {
	var f footer
	if len(b) < footerSize || [4]byte(b[:4]) != footerMagic {
		return f, fmt.Errorf("segment: no footer")
	}
	if binary.LittleEndian.Uint32(b[28:]) != crc32.Checksum(b[:28], sysfile.Castagnoli) {
		return f, fmt.Errorf("segment: footer checksum mismatch")
	}
	if b[24] != fileVersion {
		return f, fmt.Errorf("segment: footer version %d", b[24])
	}
	f.used = binary.LittleEndian.Uint32(b[4:])
	f.count = binary.LittleEndian.Uint32(b[8:])
	f.pcount = binary.LittleEndian.Uint32(b[12:])
	f.pbody = binary.LittleEndian.Uint64(b[16:])
	if int64(f.used)+footerSize != fileSize || f.used < DataStart || f.used%recordAlign != 0 || f.pcount > f.count {
		return f, fmt.Errorf("segment: footer does not match the file (used %d, size %d)", f.used, fileSize)
	}
	return f, nil
}

func segName(id uint32) string { return fmt.Sprintf("seg.%010d", id) }

// parseSegName returns the id in a segment file name.
func parseSegName(name string) (uint32, bool) {
	var id uint64
	if len(name) != 14 || name[:4] != "seg." {
		return 0, false
	}
	for _, c := range name[4:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		id = id*10 + uint64(c-'0')
	}
	return uint32(id), id > 0 && id <= 1<<32-1
}
