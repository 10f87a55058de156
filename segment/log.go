package segment

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
)

// Options configure a Log.
type Options struct {
	// SegmentSize is the size of each segment file (DefaultSegmentSize if 0).
	SegmentSize int64
	// Durable logs keep their files across a restart and fsync persistent
	// records through Syncer. Other logs delete what they find at Open: a
	// crash leaves their files behind (the broker clears its transient
	// folder at start), but they can be closed and reopened like any file.
	Durable bool
	// Syncer, if set, makes persistent appends to a durable log report the
	// generation that will cover them. Without one nothing is fsynced.
	Syncer *Syncer
	// Logger gets recovery reports (default slog.Default()).
	Logger *slog.Logger
	// OnMkdir, if set, runs once the log has made sure of its directory,
	// before its first segment since Open. The directory is made only
	// then: a log that never held a record has none and costs no inode,
	// no fd and no syscall but one failed ReadDir at Open.
	OnMkdir func(dir string) error
	// Files bounds the descriptors open across logs (DefaultFileCache()
	// if nil).
	Files *FileCache
	// Maps bounds the mappings held across logs (DefaultMapBudget() if
	// nil).
	Maps *MapBudget
	// Owner is the lock the caller holds around every call on the log
	// and every use of the views it returns (the queue's mutex): with it
	// set, Maps may unmap this log's segments while it is cold, from
	// another log's call. Nil: only the log itself unmaps them.
	Owner Owner
}

// Errors returned by Log methods.
var (
	ErrEnd       = errors.New("segment: no record at this position yet")
	ErrNoSegment = errors.New("segment: no such segment")
	ErrTooLarge  = errors.New("segment: record too large")
	ErrClosed    = errors.New("segment: log closed")
	// ErrMapLimit: the kernel refused to map a segment (ENOMEM): the
	// process holds vm.max_map_count mappings, or is out of address
	// space. The records are intact; a read may succeed later.
	ErrMapLimit = errors.New("segment: cannot map segment: the process's memory mappings are at the kernel's limit (vm.max_map_count)")
)

// CorruptError reports a position whose bytes failed their checksum.
type CorruptError struct {
	Pos Pos
	Err error
}

func (e *CorruptError) Error() string { return fmt.Sprintf("segment: record at %v: %v", e.Pos, e.Err) }
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// Log is one queue's directory of segments. It is not safe for concurrent
// use: the queue that owns it serialises calls. Only the Syncer runs on a
// goroutine of its own, and it touches nothing but file descriptors.
//
// Mapped memory stays bounded whatever the backlog: the segment being
// written is mapped, plus at most maxReadMaps others for readers; any other
// segment is just a closed file until someone reads it. Descriptors are
// bounded too: only the head has one, under the FileCache shared by all
// logs, which closes the least recently used heads past its budget. The
// directory is opened only to fsync a new segment's name, so 100,000 empty
// queues cost no fds, and 100,000 with a backlog cost the cache's budget.
type Log struct {
	dir    string
	opt    Options
	id     uint64 // names its files in the Syncer's failure records
	segs   []*seg // by id
	head   *seg   // the segment being written, nil until the first append
	nextID uint32
	// readMaps are the sealed segments mapped for reading, least
	// recently used first; maps counts them and the head's mapping in
	// the broker-wide MapBudget.
	readMaps []*seg
	maps     MapEntry
	w        wbuf // stages appends to the head and owns its descriptor
	// retired lists segments whose writes failed since TakeRetired (see
	// retire.go).
	retired []Recovered
	// haveDir: makeDir ran since Open.
	haveDir bool
	noDir   bool // Open found no directory
	closed  bool
}

// maxReadMaps bounds the segments mapped for reading at once: the consumer's
// cursor and one more (a requeued message, an ack lagging a segment behind).
const maxReadMaps = 2

// Open opens (creating if needed) the log in dir. A durable log recovers
// what is there and reports each segment it kept; every recovered segment
// is sealed, and appends go to a new one. A non-durable log starts empty.
func Open(dir string, o Options) (*Log, []Recovered, error) {
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	o.SegmentSize = min(max(alignUp(o.SegmentSize), 4096), maxSegmentSize)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Files == nil {
		o.Files = DefaultFileCache()
	}
	if o.Maps == nil {
		o.Maps = DefaultMapBudget()
	}
	l := &Log{dir: dir, opt: o, nextID: 1, id: newLogID()}
	l.maps.Init(o.Maps, o.Owner, l)
	l.w.init(o.Files, o.Durable)
	l.w.logID = l.id
	ids, err := l.listSegments()
	if errors.Is(err, fs.ErrNotExist) {
		l.noDir = true
		return l, nil, nil // made with the first segment
	}
	if err != nil {
		return nil, nil, err
	}
	if !o.Durable {
		for _, id := range ids {
			_ = os.Remove(l.path(id))
		}
		return l, nil, nil
	}
	var recs []Recovered
	for _, id := range ids {
		l.nextID = max(l.nextID, id+1)
		r, keep, err := l.recoverSegment(id)
		if err != nil {
			l.Close()
			return nil, nil, err
		}
		if keep {
			l.segs = append(l.segs, &seg{id: id, used: r.Used, size: int64(r.Used) + footerSize, recovered: true})
			recs = append(recs, r)
		}
	}
	return l, recs, nil
}

// logger is made when something is logged, which is rare: a logger per
// log kept for the log's life costs 1 KiB a queue.
func (l *Log) logger() *slog.Logger { return l.opt.Logger.With("dir", l.dir) }

// NoDir reports that Open found no directory: the log never held a
// record, and nothing else can be stored for it either.
func (l *Log) NoDir() bool { return l.noDir }

// makeDir creates the log's directory before its first segment.
func (l *Log) makeDir() error {
	if l.haveDir {
		return nil
	}
	err := os.Mkdir(l.dir, 0o755)
	if errors.Is(err, fs.ErrNotExist) {
		err = os.MkdirAll(l.dir, 0o755)
	}
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if l.opt.OnMkdir != nil {
		if err := l.opt.OnMkdir(l.dir); err != nil {
			return err
		}
	}
	l.haveDir = true
	return nil
}

func (l *Log) path(id uint32) string { return filepath.Join(l.dir, segName(id)) }

func (l *Log) listSegments() ([]uint32, error) {
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, err
	}
	var ids []uint32
	for _, e := range ents {
		if id, ok := parseSegName(e.Name()); ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// ReserveIDs makes new segments get ids of at least id. Positions handed
// out before a restart stay ordered before new ones even if their segments
// were all deleted in between.
func (l *Log) ReserveIDs(id uint32) { l.nextID = max(l.nextID, id) }

// Head reports the segment being written, if any, and how full it is.
func (l *Log) Head() (id, used uint32, ok bool) {
	if l.head == nil {
		return 0, 0, false
	}
	return l.head.id, l.head.used, true
}

// SegmentSize is the configured size of a segment file.
func (l *Log) SegmentSize() int64 { return l.opt.SegmentSize }

// Segments returns the ids of the segments in the log, oldest first.
func (l *Log) Segments() []uint32 {
	ids := make([]uint32, len(l.segs))
	for i, s := range l.segs {
		ids[i] = s.id
	}
	return ids
}

// Mapped is the number of segments mapped right now (for metrics and tests).
func (l *Log) Mapped() int {
	n := len(l.readMaps)
	if l.head != nil && l.head.data != nil {
		n++
	}
	return n
}

// find returns the segment with the given id, or nil.
func (l *Log) find(id uint32) *seg {
	if h := l.head; h != nil && h.id == id {
		return h
	}
	i, ok := slices.BinarySearchFunc(l.segs, id, func(s *seg, id uint32) int { return cmp.Compare(s.id, id) })
	if !ok {
		return nil
	}
	return l.segs[i]
}

// after returns the first segment with an id greater than id, or nil.
func (l *Log) after(id uint32) *seg {
	i, ok := slices.BinarySearchFunc(l.segs, id, func(s *seg, id uint32) int { return cmp.Compare(s.id, id) })
	if ok {
		i++
	}
	if i < len(l.segs) {
		return l.segs[i]
	}
	return nil
}

// Remove deletes a segment: unmapped, closed and unlinked at once, so its
// disk space comes back now (a mapped deleted file would hold on to it).
// Removing the segment being written is allowed; the next append starts a
// new one. Views into the segment become invalid.
func (l *Log) Remove(id uint32) error {
	i, ok := slices.BinarySearchFunc(l.segs, id, func(s *seg, id uint32) int { return cmp.Compare(s.id, id) })
	if !ok {
		return nil
	}
	s := l.segs[i]
	if s == l.head {
		l.w.drop() // staged records of a removed head are dropped
		l.head = nil
	}
	l.unmapSeg(s)
	l.segs = slices.Delete(l.segs, i, i+1)
	if err := os.Remove(l.path(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Close seals the segment being written (so the next Open need not scan
// it), unmaps everything and closes the files. A durable log's head is
// fdatasynced on the way: a clean shutdown leaves nothing unsynced.
func (l *Log) Close() error {
	if l.closed {
		return nil
	}
	l.closed = true
	var err error
	if h := l.head; h != nil {
		if h.used == DataStart {
			err = l.Remove(h.id)
		} else {
			err = l.seal(h, true)
		}
	}
	if l.head != nil { // a failed seal leaves it
		l.w.drop()
		l.head = nil
	}
	l.w.releaseHot()
	for _, s := range l.segs {
		l.unmapSeg(s)
	}
	return err
}
