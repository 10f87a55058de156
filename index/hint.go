package index

import (
	"encoding/binary"
	"hash/crc32"
	"os"

	"golang.org/x/sys/unix"

	"github.com/warrenmq/warren/segment"
	"github.com/warrenmq/warren/segment/sysfile"
)

// The "delivered up to" hint: every position below it may have been handed
// to a consumer. After a crash, a record below the hint that was not acked
// comes back with redelivered=true, as AMQP asks.
//
// Writing it on every delivery would cost a syscall per message, so it is
// written ahead, rounded up to hintStep: once per 64 KiB of log consumed.
// A few never-delivered messages may then come back flagged redelivered,
// which the flag allows ("may have been delivered before"); a delivered
// one never comes back unflagged after a process crash. (After a power cut
// the last write may be lost: the file is not fsynced on this path.)
//
// The file has two 16-byte slots (seg, off, seq, crc32c) written in turn,
// so a torn write leaves the previous hint. It is opened for each write
// and closed after, so that a queue holds no descriptor between writes
// (100,000 consumed queues would hold 100,000): an open and a close per
// 64 KiB consumed.
const (
	hintName  = "delivered"
	hintStep  = 64 << 10
	hintSlot  = 16
	hintSlots = 2
)

type hint struct {
	path  string
	mark  segment.Pos // what the file says now
	seq   uint32
	buf   [hintSlot]byte
	noDur bool
}

func loadHint(dir string) (segment.Pos, uint32) {
	b, err := os.ReadFile(dir + "/" + hintName)
	if err != nil {
		return segment.Pos{}, 0
	}
	var best segment.Pos
	var bestSeq uint32
	found := false
	for i := 0; i < hintSlots && (i+1)*hintSlot <= len(b); i++ {
		s := b[i*hintSlot : (i+1)*hintSlot]
		if binary.LittleEndian.Uint32(s[12:]) != crc32.Checksum(s[:12], sysfile.Castagnoli) {
			continue
		}
		seq := binary.LittleEndian.Uint32(s[8:])
		if !found || seq > bestSeq {
			found = true
			bestSeq = seq
			best = segment.Pos{Seg: binary.LittleEndian.Uint32(s[0:]), Off: binary.LittleEndian.Uint32(s[4:])}
		}
	}
	return best, bestSeq
}

// delivered moves the hint past p if it is not already.
func (h *hint) delivered(p segment.Pos) error {
	if p.Less(h.mark) || h.noDur {
		return nil
	}
	fd, err := unix.Open(h.path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	m := segment.Pos{Seg: p.Seg, Off: uint32(min((uint64(p.Off)/hintStep+1)*hintStep, 1<<32-1))}
	h.seq++
	b := h.buf[:]
	binary.LittleEndian.PutUint32(b[0:], m.Seg)
	binary.LittleEndian.PutUint32(b[4:], m.Off)
	binary.LittleEndian.PutUint32(b[8:], h.seq)
	binary.LittleEndian.PutUint32(b[12:], crc32.Checksum(b[:12], sysfile.Castagnoli))
	if err := sysfile.PwriteAll(fd, b, int64(h.seq%hintSlots)*hintSlot); err != nil {
		return err
	}
	h.mark = m
	return nil
}

func (h *hint) close() {}
