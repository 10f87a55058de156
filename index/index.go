// Package index keeps a queue's ack index: which records of each segment
// are done (acked, or dropped), so that a segment can be deleted the moment
// all of its records are, and so that after a restart the done ones are
// not delivered again.
//
// In memory each segment has its counts and a sorted list of done runs
// (runs.go): O(segments + gaps), never O(messages). On disk each segment
// that has acks has an ack file (ackfile.go), deleted with the segment,
// and the queue has one "delivered up to" hint file (hint.go).
package index

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/warrenmq/warren/segment"
)

// Options configure an Index.
type Options struct {
	// Durable indexes keep ack files and the delivered hint on disk; others
	// keep everything in memory.
	Durable bool
	Logger  *slog.Logger
	// NoDir says the queue's directory does not exist (segment.Log.NoDir):
	// there is nothing to load, and Open makes no syscall.
	NoDir bool
	// Maps and Owner are as for segment.Options: the mapped ack files
	// count against Maps (segment.DefaultMapBudget() if nil), which may
	// unmap them while the index is cold if Owner is set.
	Maps  *segment.MapBudget
	Owner segment.Owner
}

// ErrDone: the record was already done (acked twice).
var ErrDone = errors.New("index: record already done")

// ErrNoSegment: the index does not track the segment.
var ErrNoSegment = errors.New("index: unknown segment")

// Index is not safe for concurrent use; the queue that owns it serialises
// calls, as for its segment.Log.
type Index struct {
	dir       string
	opt       Options
	segs      []*segState // by id
	last      *segState   // the segment looked up last
	maps      []*ackFile  // mapped ack files, least recently used first
	mapped    segment.MapEntry
	hint      hint
	redeliver segment.Pos // the hint found at Open
	ready     int64
	readyB    int64
}

// segState is one segment's counts and done runs.
type segState struct {
	id          uint32
	total, done uint32 // live records, and how many of them are done
	totalB      uint64 // body bytes
	doneB       uint64
	runs        runs
	af          *ackFile // nil until the first persistent ack (durable only)
	// limit, if not 0, is the end of the segment's records after Retrack:
	// records past it are gone (a retired or repaired segment), and an ack
	// for one of them must not count toward deleting the segment.
	limit uint32
}

// maxAckMaps bounds the ack files mapped at once: acks land near the
// consumer, in the segment it reads and the one before.
const maxAckMaps = 2

func ackName(id uint32) string { return fmt.Sprintf("ack.%010d", id) }

// Open loads the index for the segments a segment.Log recovered (none for a
// non-durable queue). Ack files of segments that are gone are deleted.
func Open(dir string, o Options, recs []segment.Recovered) (*Index, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	x := &Index{dir: dir, opt: o}
	if o.Maps == nil {
		o.Maps = segment.DefaultMapBudget()
	}
	x.mapped.Init(o.Maps, o.Owner, x)
	x.hint = hint{path: filepath.Join(dir, hintName), noDur: !o.Durable}
	// No directory yet is fine: the segment log makes it before any
	// segment, and ack and hint files come after segments.
	if o.NoDir {
		return x, nil
	}
	if !o.Durable {
		x.removeStale(nil)
		return x, nil
	}
	x.redeliver, x.hint.seq = loadHint(dir)
	x.hint.mark = x.redeliver
	keep := make(map[uint32]bool, len(recs))
	for _, r := range recs {
		st, err := x.recover(r)
		if err != nil {
			return nil, err
		}
		x.segs = append(x.segs, st)
		x.ready += int64(st.total - st.done)
		x.readyB += int64(st.totalB - st.doneB)
		keep[r.ID] = true
	}
	slices.SortFunc(x.segs, func(a, b *segState) int { return cmp.Compare(a.id, b.id) })
	x.removeStale(keep)
	return x, nil
}

// removeStale deletes ack files whose segment is not kept (and, for a
// non-durable index, the hint).
func (x *Index) removeStale(keep map[uint32]bool) {
	ents, _ := os.ReadDir(x.dir)
	for _, e := range ents {
		var id uint32
		if n, _ := fmt.Sscanf(e.Name(), "ack.%010d", &id); n == 1 && len(e.Name()) == 14 && !keep[id] {
			_ = os.Remove(filepath.Join(x.dir, e.Name()))
		}
	}
	if !x.opt.Durable {
		_ = os.Remove(x.hint.path)
	}
}

// logger is made when something is logged, which is rare.
func (x *Index) logger() *slog.Logger { return x.opt.Logger.With("dir", x.dir) }

func (x *Index) find(id uint32) *segState {
	if x.last != nil && x.last.id == id {
		return x.last
	}
	i, ok := slices.BinarySearchFunc(x.segs, id, func(s *segState, id uint32) int { return cmp.Compare(s.id, id) })
	if !ok {
		return nil
	}
	x.last = x.segs[i]
	return x.last
}

// Added counts a record just appended to seg (which may be new).
func (x *Index) Added(seg uint32, body int) {
	st := x.find(seg)
	if st == nil {
		st = &segState{id: seg}
		i, _ := slices.BinarySearchFunc(x.segs, seg, func(s *segState, id uint32) int { return cmp.Compare(s.id, id) })
		x.segs = slices.Insert(x.segs, i, st)
		x.last = st
	}
	st.total++
	st.totalB += uint64(body)
	x.ready++
	x.readyB += int64(body)
}

// Ack marks the record at p done: size is its segment size, body its body
// length; persist writes it to the ack file (a persistent record of a
// durable queue: nothing else survives a restart anyway). complete reports
// that every record of the segment is now done.
func (x *Index) Ack(p segment.Pos, size, body uint32, persist bool) (complete bool, err error) {
	st := x.find(p.Seg)
	if st == nil {
		return false, ErrNoSegment
	}
	if st.limit != 0 && p.Off >= st.limit {
		return st.done >= st.total, nil
	}
	r := run{off: p.Off, end: p.Off + size}
	if persist {
		r.pcount, r.pbody = 1, body
	}
	i, ok := st.runs.add(r)
	if !ok {
		return false, ErrDone
	}
	st.done++
	st.doneB += uint64(body)
	x.ready--
	x.readyB -= int64(body)
	if persist && x.opt.Durable {
		err = x.persist(st, st.runs[i])
	}
	return st.done >= st.total, err
}

// persist writes the run holding a fresh ack to the segment's ack file.
func (x *Index) persist(st *segState, r run) error {
	if st.af == nil {
		st.af = newAckFile(filepath.Join(x.dir, ackName(st.id)), st.id)
	}
	if st.af.data == nil {
		if len(x.maps) >= maxAckMaps {
			x.unmapAck(x.maps[0])
			x.maps = x.maps[1:]
		}
		if err := x.mapAck(st.af); err != nil {
			return err
		}
		x.maps = append(x.maps, st.af)
	} else if n := len(x.maps); x.maps[n-1] != st.af {
		i := slices.Index(x.maps, st.af)
		copy(x.maps[i:], x.maps[i+1:])
		x.maps[n-1] = st.af
	}
	return st.af.write(r, st.runs)
}

// Skip reports whether the record at p is done and, if so, where the run of
// done records holding it ends: a reader jumps there.
func (x *Index) Skip(p segment.Pos) (end uint32, done bool) {
	st := x.find(p.Seg)
	if st == nil {
		return 0, false
	}
	r, ok := st.runs.find(p.Off)
	return r.end, ok
}

// Complete reports whether every record of seg is done.
func (x *Index) Complete(seg uint32) bool {
	st := x.find(seg)
	return st == nil || st.done >= st.total
}

// Left returns how many of seg's records are not done, and their bytes.
func (x *Index) Left(seg uint32) (count int, bytes int64) {
	st := x.find(seg)
	if st == nil {
		return 0, 0
	}
	return int(st.total - st.done), int64(st.totalB - st.doneB)
}

// NotDone returns how many records of all segments are not done, and
// their body bytes: after Open, the queue's ready count.
func (x *Index) NotDone() (count int, bytes int64) { return int(x.ready), x.readyB }

// Drop forgets seg and deletes its ack file (the segment is gone).
func (x *Index) Drop(seg uint32) error {
	i, ok := slices.BinarySearchFunc(x.segs, seg, func(s *segState, id uint32) int { return cmp.Compare(s.id, id) })
	if !ok {
		return nil
	}
	st := x.segs[i]
	x.ready -= int64(st.total - st.done)
	x.readyB -= int64(st.totalB - st.doneB)
	if st.af != nil {
		x.unmapAck(st.af)
		if j := slices.Index(x.maps, st.af); j >= 0 {
			x.maps = slices.Delete(x.maps, j, j+1)
		}
	}
	x.segs = slices.Delete(x.segs, i, i+1)
	if x.last == st {
		x.last = nil
	}
	if x.opt.Durable {
		if err := os.Remove(filepath.Join(x.dir, ackName(seg))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Delivered moves the "delivered up to" hint past p (see hint.go).
func (x *Index) Delivered(p segment.Pos) error { return x.hint.delivered(p) }

// Redelivered reports whether p was below the hint found at Open: a record
// that may have been delivered before the restart.
func (x *Index) Redelivered(p segment.Pos) bool { return p.Less(x.redeliver) }

// NextSegment is the lowest segment id a new segment may take so that it
// orders after every position handed out before the restart.
func (x *Index) NextSegment() uint32 { return x.redeliver.Seg + 1 }

// Close unmaps and closes the ack files. A durable index fdatasyncs the
// mapped ones first, so a clean shutdown keeps every ack.
func (x *Index) Close() error {
	var err error
	for _, a := range x.maps {
		if e := a.sync(); e != nil && err == nil {
			err = e
		}
		x.unmapAck(a)
	}
	x.maps = nil
	x.hint.close()
	return err
}

// mapAck maps a's file, counted in the MapBudget (see segment.Log.view):
// a mapping the kernel refuses is ErrMapLimit, after one more round of
// evictions. The ack stays in memory; only its record on disk is missing
// until the file is mapped again, and a restart would redeliver it.
func (x *Index) mapAck(a *ackFile) error {
	x.mapped.Reserve()
	err := a.open()
	if errors.Is(err, unix.ENOMEM) && x.mapped.Retry() {
		err = a.open()
	}
	if errors.Is(err, unix.ENOMEM) {
		x.mapped.Refused()
		return fmt.Errorf("ack file %s: %w (%w)", a.path, segment.ErrMapLimit, err)
	}
	if err != nil {
		return err
	}
	x.mapped.Mapped()
	return nil
}

// unmapAck unmaps a's file if it is mapped.
func (x *Index) unmapAck(a *ackFile) {
	if a.data != nil {
		a.close()
		x.mapped.Unmapped()
	}
}

// ReleaseMaps unmaps every ack file (segment.MapHolder): the MapBudget
// asks a cold index to, with its Owner held. Like the index's own
// eviction past maxAckMaps it does not msync: the pages are the page
// cache's, written back as usual.
func (x *Index) ReleaseMaps() {
	for _, a := range x.maps {
		x.unmapAck(a)
	}
	x.maps = nil
}
