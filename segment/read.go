package segment

import "os"

// pageSize is the unit of releasePages.
var pageSize = uint32(os.Getpagesize())

// Read returns the record at p and its size. The byte fields are views into
// the mapping (or the staging buffer): valid until the next call on the
// log, which may unmap or reuse them.
func (l *Log) Read(p Pos) (Record, uint32, error) {
	s := l.find(p.Seg)
	if s == nil {
		return Record{}, 0, ErrNoSegment
	}
	if p.Off < DataStart || p.Off >= s.used {
		return Record{}, 0, &CorruptError{Pos: p, Err: ErrEnd}
	}
	b, err := l.bytesAt(s, p.Off)
	if err != nil {
		return Record{}, 0, err
	}
	// Staged bytes are this process's own, and a non-durable log's have
	// no checksum at all (wbuf.put, writeRecord).
	staged := s == l.head && int64(p.Off) >= l.w.base
	r, n, err := decodeCRC(b, !staged && l.opt.Durable)
	if err == nil && r.Flags&flagPadding != 0 {
		err = ErrCorrupt
	}
	if err != nil {
		return Record{}, 0, &CorruptError{Pos: p, Err: err}
	}
	return r, uint32(n), nil
}

// Next returns the first record at or after p that a reader should get, in
// log order, crossing into later segments as needed. It passes over the
// padding recovery left behind and, in segments found at Open, over
// transient records (a restart drops them). At the end of the data it
// returns ErrEnd and the position where the next record will appear as far
// as p can tell; call again after appends. A bad record comes back as a
// *CorruptError: call Rescan on its segment, then Next again.
func (l *Log) Next(p Pos) (Pos, Record, uint32, error) {
	for {
		s := l.find(p.Seg)
		if s == nil {
			n := l.after(p.Seg)
			if n == nil {
				return p, Record{}, 0, ErrEnd
			}
			p = Pos{Seg: n.id, Off: DataStart}
			continue
		}
		if p.Off < DataStart {
			p.Off = DataStart
		}
		if p.Off >= s.used {
			n := l.after(s.id)
			if s == l.head || n == nil {
				return p, Record{}, 0, ErrEnd
			}
			p = Pos{Seg: n.id, Off: DataStart}
			continue
		}
		b, err := l.bytesAt(s, p.Off)
		if err != nil {
			return p, Record{}, 0, err
		}
		r, n, err := decodeCRC(b, (s != l.head || s.recovered) && l.opt.Durable)
		if err != nil {
			return p, Record{}, 0, &CorruptError{Pos: p, Err: err}
		}
		if r.Flags&flagPadding != 0 || (s.recovered && r.Flags&FlagPersistent == 0) {
			p.Off += uint32(n)
			continue
		}
		if p.Off >= s.dropped+dropBehind {
			l.dropBehind(s, p.Off)
		}
		return p, r, uint32(n), nil
	}
}

// dropBehind is how far a reader gets past the pages it last released
// before releasing the ones behind it again.
const dropBehind = 256 << 10

// dropBehind releases the mapping's pages of s below off (rounded down to
// a page): the reader has passed them. Pages read through a mapping count
// in the process's RSS until it is unmapped, so 32 queues each reading a
// backlog through its 8 MiB head held 50 MB of RSS in issue 19's 32p/32c
// case. The data stays in the page cache; a later read there (a requeued
// message) faults it back in. A head read from its staging buffer alone
// is not mapped yet.
func (l *Log) dropBehind(s *seg, off uint32) {
	end := min(off&^(pageSize-1), uint32(len(s.data)))
	if end > s.dropped {
		releasePages(s.data[s.dropped:end])
		s.dropped = end
	}
}
