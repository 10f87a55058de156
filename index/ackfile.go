package index

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"

	"golang.org/x/sys/unix"

	"github.com/warrenmq/warren/segment/sysfile"
)

// An ack file holds the done runs of one segment's persistent records. It
// is an 8-byte header and then 24-byte entries:
//
//	0  u32 off     first byte of the run
//	4  u32 end     end of the run
//	8  u32 pcount  persistent records in it
//	12 u32 pbody   their body bytes
//	16 u32 seg     the segment id (a misplaced file cannot pass for another)
//	20 u32 crc32c  of bytes 0..20
//
// Reading takes the union of the valid entries: a later entry may cover an
// earlier one (a run that grew), never overlap it partly. That lets a run
// that keeps growing (acks in order) be rewritten in place instead of
// appended: it alternates between the two most recent slots, so a torn
// write destroys at most the older copy. When the file is full its entries
// are rewritten from the runs in memory (compaction), and the file doubles
// if the runs alone fill half of it.
const (
	ackHeaderSize = 8
	entrySize     = 24
	ackFileSize   = 4096 // initial size: 170 entries
	ackVersion    = 1
)

var ackMagic = [4]byte{'W', 'A', 'C', 'K'}

func putEntry(b []byte, seg uint32, r run) {
	binary.LittleEndian.PutUint32(b[0:], r.off)
	binary.LittleEndian.PutUint32(b[4:], r.end)
	binary.LittleEndian.PutUint32(b[8:], r.pcount)
	binary.LittleEndian.PutUint32(b[12:], r.pbody)
	binary.LittleEndian.PutUint32(b[16:], seg)
	binary.LittleEndian.PutUint32(b[20:], crc32.Checksum(b[:20], sysfile.Castagnoli))
}

// parseEntry reports ok=false for an empty or damaged slot.
func parseEntry(b []byte, seg uint32) (run, bool) {
	r := run{
		off:    binary.LittleEndian.Uint32(b[0:]),
		end:    binary.LittleEndian.Uint32(b[4:]),
		pcount: binary.LittleEndian.Uint32(b[8:]),
		pbody:  binary.LittleEndian.Uint32(b[12:]),
	}
	ok := r.pcount > 0 && r.off < r.end && binary.LittleEndian.Uint32(b[16:]) == seg &&
		binary.LittleEndian.Uint32(b[20:]) == crc32.Checksum(b[:20], sysfile.Castagnoli)
	return r, ok
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// ackFile is the writer side of one segment's ack file.
type ackFile struct {
	path string
	seg  uint32
	// The file's descriptor is closed once it is mapped (a mapping needs
	// none): 100,000 queues acking cost no fds. grow reopens it.
	data []byte // writable mapping, nil while unmapped
	size int64  // file size
	n    int    // slots in use: entries live in [0, n)
	// The two most recently written slots (-1: none) and the runs in them.
	// A run that grows over both is written over the older one.
	older, newer int
	oldR, newR   run
}

func newAckFile(path string, seg uint32) *ackFile {
	return &ackFile{path: path, seg: seg, older: -1, newer: -1}
}

func (a *ackFile) slots() int { return int(a.size-ackHeaderSize) / entrySize }

func (a *ackFile) slot(i int) []byte {
	o := ackHeaderSize + i*entrySize
	return a.data[o : o+entrySize]
}

// open maps the file, creating it if needed. Space is reserved by writing
// zeros, not left sparse: a store into a hole on a full disk is a SIGBUS.
func (a *ackFile) open() error {
	fd, err := unix.Open(a.path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return err
	}
	size := st.Size
	if size < ackFileSize || (size-ackHeaderSize)%entrySize != 0 {
		// New (or of an odd size, which recovery read past anyway).
		want := max(ackFileSize, ackHeaderSize+(size-ackHeaderSize+entrySize-1)/entrySize*entrySize)
		if err := sysfile.ZeroFill(fd, max(size, 0), want-max(size, 0)); err != nil {
			return err
		}
		var h [ackHeaderSize]byte
		copy(h[:], ackMagic[:])
		h[4] = ackVersion
		if err := sysfile.PwriteAll(fd, h[:], 0); err != nil {
			return err
		}
		size = want
	}
	data, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return err
	}
	a.data, a.size = data, size
	return nil
}

func (a *ackFile) close() {
	if a.data != nil {
		_ = unix.Munmap(a.data)
		a.data = nil
	}
}

// sync writes a mapped file's pages to disk (clean shutdown): msync with
// MS_SYNC is an fdatasync of the mapped range, and needs no descriptor.
func (a *ackFile) sync() error {
	if a.data == nil {
		return nil
	}
	return unix.Msync(a.data, unix.MS_SYNC)
}

// write records r, which holds the record just acked and everything merged
// with it. all are the segment's runs, for compaction. The file must be
// mapped.
func (a *ackFile) write(r run, all runs) error {
	switch {
	case a.older >= 0 && r.contains(a.oldR) && r.contains(a.newR):
		i := a.older
		putEntry(a.slot(i), a.seg, r)
		a.older, a.newer, a.oldR, a.newR = a.newer, i, a.newR, r
	case a.n < a.slots():
		putEntry(a.slot(a.n), a.seg, r)
		a.older, a.newer, a.oldR, a.newR = a.newer, a.n, a.newR, r
		a.n++
	default:
		return a.compact(all)
	}
	return nil
}

// compact rewrites the entries from the runs in memory. A crash halfway
// loses some acks (their messages come back, marked redelivered), never
// invents one: every slot holds a valid run or garbage that fails its crc.
func (a *ackFile) compact(all runs) error {
	k := 0
	for _, r := range all {
		if r.pcount > 0 {
			k++
		}
	}
	if need := 2 * (k + 2); need > a.slots() {
		if err := a.grow(int64(ackHeaderSize + need*entrySize)); err != nil {
			return err
		}
	}
	i := 0
	for _, r := range all {
		if r.pcount > 0 {
			putEntry(a.slot(i), a.seg, r)
			i++
		}
	}
	for j := i; j < a.n; j++ {
		clear(a.slot(j))
	}
	a.n = i
	a.older, a.newer = -1, -1
	return nil
}

func (a *ackFile) grow(size int64) error {
	size = max(size, 2*a.size)
	fd, err := unix.Open(a.path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := sysfile.ZeroFill(fd, a.size, size-a.size); err != nil {
		return err
	}
	data, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return err
	}
	_ = unix.Munmap(a.data)
	a.data, a.size = data, size
	return nil
}

// readAckFile returns the valid entries of an ack file, the number of
// slots in use, and how many slots were damaged.
func readAckFile(path string, seg uint32) (ents []run, used, bad int, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, 0, nil
	}
	if err != nil {
		return nil, 0, 0, err
	}
	if len(b) < ackHeaderSize || [4]byte(b[:4]) != ackMagic {
		return nil, 0, 1, nil
	}
	for i, o := 0, ackHeaderSize; o+entrySize <= len(b); i, o = i+1, o+entrySize {
		e := b[o : o+entrySize]
		if isZero(e) {
			continue
		}
		used = i + 1
		if r, ok := parseEntry(e, seg); ok {
			ents = append(ents, r)
		} else {
			bad++
		}
	}
	return ents, used, bad, nil
}
