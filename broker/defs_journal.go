package broker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/warrenmq/warren/frame"
)

// defsJournal is one vhost's definitions changes since its snapshot
// (definitions.json): an append-only file of checksummed records, so a
// declare costs one small write however many queues exist, and one fsync
// shared with every change written meanwhile (group commit). Once it holds
// as many records as the snapshot has entries it is folded into a new
// snapshot, which keeps the total work per change O(1) amortised.
//
// Writes are serialised by the vhost's mu (the caller holds it); the
// committer goroutine fsyncs and runs the waiters' callbacks without it.
type defsJournal struct {
	dir string

	// Guarded by the vhost's mu.
	gen         uint64   // the snapshot that names this journal
	f           *os.File // O_APPEND
	size        int64    // bytes of whole records in f
	records     int      // records in f
	snapEntries int      // entries in the snapshot

	// broken: a write could not be undone or an fsync failed, so f's
	// contents are in doubt; the next change writes a whole snapshot first.
	broken atomic.Bool

	mu         sync.Mutex
	cond       sync.Cond
	written    uint64 // logical bytes appended, across files
	synced     uint64 // logical bytes known on disk
	syncing    bool   // the committer is in fsync
	compacting bool   // a snapshot is being written: the committer waits
	closed     bool
	waiters    []commitWaiter
	exited     chan struct{}
}

type commitWaiter struct {
	off  uint64
	done func(error)
}

// Commit is a definitions change that is written but perhaps not yet
// durable. The zero Commit is durable already.
type Commit struct {
	j   *defsJournal
	off uint64
}

// Pending reports whether the change may still be on its way to disk.
func (c Commit) Pending() bool {
	if c.j == nil {
		return false
	}
	c.j.mu.Lock()
	defer c.j.mu.Unlock()
	return c.j.synced < c.off
}

// Then calls done once the change is durable, or with the error that kept
// it from being so (a frame.Error with code 541). done runs at once on the
// caller's goroutine if nothing is pending, else on the committer's: it
// must not block.
func (c Commit) Then(done func(error)) {
	j := c.j
	if j == nil {
		done(nil)
		return
	}
	j.mu.Lock()
	switch {
	case j.synced >= c.off:
		j.mu.Unlock()
		done(nil)
	case j.closed:
		j.mu.Unlock()
		done(defsError(errors.New("broker closed")))
	default:
		j.waiters = append(j.waiters, commitWaiter{c.off, done})
		j.cond.Broadcast()
		j.mu.Unlock()
	}
}

// Wait blocks until the change is durable.
func (c Commit) Wait() error {
	if !c.Pending() {
		return nil
	}
	ch := make(chan error, 1)
	c.Then(func(err error) { ch <- err })
	return <-ch
}

// defsError is what a client gets when its change could not be stored.
func defsError(err error) error {
	return frame.Errorf(frame.InternalError, "cannot store definitions: %v", err)
}

func journalPath(dir string, gen uint64) string {
	return filepath.Join(dir, fmt.Sprintf("definitions.%d.journal", gen))
}

// openJournal opens (creating) the journal that continues snapshot gen,
// cutting a torn tail at size (what replay found whole).
func openJournal(dir string, gen uint64, size int64, records, snapEntries int) (*defsJournal, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(journalPath(dir, gen), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return nil, err
	}
	j := &defsJournal{dir: dir, gen: gen, f: f, size: size, records: records, snapEntries: snapEntries, exited: make(chan struct{})}
	j.cond.L = &j.mu
	go j.run()
	return j, nil
}

// Record layout, little endian: u32 length of payload, u32 crc32c of
// payload, payload (one defsChange as JSON).
const journalPrefix = 8

var defsCRC = crc32.MakeTable(crc32.Castagnoli)

func encodeRecord(payload []byte) []byte {
	b := make([]byte, journalPrefix, journalPrefix+len(payload))
	binary.LittleEndian.PutUint32(b[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(payload, defsCRC))
	return append(b, payload...)
}

// readJournal calls each for every whole record of the journal file and
// returns the length of that whole prefix: a crash can leave a torn or
// half-written last record, which the checksum shows and which is cut off.
func readJournal(path string, each func(payload []byte) error) (size int64, records int, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	off := 0
	for len(data)-off >= journalPrefix {
		n := int(binary.LittleEndian.Uint32(data[off:]))
		sum := binary.LittleEndian.Uint32(data[off+4:])
		end := off + journalPrefix + n
		if n == 0 || end > len(data) || end < off || crc32.Checksum(data[off+journalPrefix:end], defsCRC) != sum {
			break
		}
		if err := each(data[off+journalPrefix : end]); err != nil {
			return 0, 0, fmt.Errorf("%s at %d: %w", path, off, err)
		}
		off = end
		records++
	}
	if off < len(data) {
		slog.Warn("definitions journal: cut torn tail", "file", path, "at", off, "dropped_bytes", len(data)-off)
	}
	return int64(off), records, nil
}

// compactDue says whether the journal is due to become a snapshot: when it
// holds as many records as the snapshot has entries, rewriting costs no
// more than the changes it replaces did.
func (j *defsJournal) compactDue() bool {
	return j.broken.Load() || j.records >= max(4096, j.snapEntries)
}

// write appends one record. On failure the file is cut back so it holds
// whole records only, and the caller undoes its change in memory.
func (j *defsJournal) write(payload []byte) (Commit, error) {
	rec := encodeRecord(payload)
	if _, err := j.f.Write(rec); err != nil {
		if terr := j.f.Truncate(j.size); terr != nil {
			j.broken.Store(true)
		}
		return Commit{}, defsError(err)
	}
	j.size += int64(len(rec))
	j.records++
	j.mu.Lock()
	j.written += uint64(len(rec))
	c := Commit{j, j.written}
	j.mu.Unlock()
	return c, nil
}

// tail is a Commit for everything written so far: a redeclare of an
// existing entity waits for the change that made it, if still pending.
func (j *defsJournal) tail() Commit {
	j.mu.Lock()
	defer j.mu.Unlock()
	return Commit{j, j.written}
}

// run is the committer: one fsync covers every change written before it
// started, and the waiters for them are told together.
func (j *defsJournal) run() {
	defer close(j.exited)
	j.mu.Lock()
	for {
		for !j.closed && (len(j.waiters) == 0 || j.compacting) {
			j.cond.Wait()
		}
		if len(j.waiters) == 0 { // closed, and nothing left to sync
			j.mu.Unlock()
			return
		}
		target, f := j.written, j.f
		j.syncing = true
		j.mu.Unlock()
		err := f.Sync()
		j.mu.Lock()
		j.syncing = false
		if err != nil {
			j.broken.Store(true)
			slog.Error("definitions journal: fsync failed; the next change rewrites the snapshot", "dir", j.dir, "err", err)
			err = defsError(err)
		} else if target > j.synced {
			j.synced = target
		}
		ready := j.takeWaiters(target)
		j.cond.Broadcast()
		j.mu.Unlock()
		for _, w := range ready {
			w.done(err)
		}
		j.mu.Lock()
	}
}

// takeWaiters removes and returns the waiters covered by off. j.mu held.
func (j *defsJournal) takeWaiters(off uint64) []commitWaiter {
	var ready []commitWaiter
	keep := j.waiters[:0]
	for _, w := range j.waiters {
		if w.off <= off {
			ready = append(ready, w)
		} else {
			keep = append(keep, w)
		}
	}
	clear(j.waiters[len(keep):])
	j.waiters = keep
	return ready
}

// compact replaces snapshot and journal with a snapshot of d, which must
// hold every change written so far (the caller holds the vhost's mu and
// takes d from memory). Everything pending is then durable.
func (j *defsJournal) compact(d definitions) error {
	j.mu.Lock()
	j.compacting = true
	for j.syncing {
		j.cond.Wait()
	}
	j.mu.Unlock()

	err := j.rewrite(d)

	j.mu.Lock()
	j.compacting = false
	var ready []commitWaiter
	if err == nil {
		j.synced = j.written
		ready = j.takeWaiters(j.written)
	}
	j.cond.Broadcast()
	j.mu.Unlock()
	for _, w := range ready {
		w.done(nil)
	}
	if err != nil {
		return defsError(err)
	}
	return nil
}

// rewrite writes snapshot gen+1 naming a new empty journal. The rename of
// the snapshot is the commit point: before it, the old snapshot and
// journal stand; after it, the old journal is ignored and removed.
func (j *defsJournal) rewrite(d definitions) error {
	gen := j.gen + 1
	path := journalPath(j.dir, gen)
	nf, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	d.Journal, d.Format = gen, definitionsFormat
	if err := writeDefinitions(j.dir, d); err != nil {
		nf.Close()
		_ = os.Remove(path)
		return err
	}
	old := j.f
	j.f, j.gen, j.size, j.records = nf, gen, 0, 0
	j.snapEntries = d.entries()
	j.broken.Store(false)
	if old != nil {
		old.Close()
	}
	_ = os.Remove(journalPath(j.dir, gen-1))
	return nil
}

// close stops the committer once what is waiting is synced, and closes the
// file. Changes already written stay in it for the next start.
func (j *defsJournal) close() {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return
	}
	j.closed = true
	j.cond.Broadcast()
	j.mu.Unlock()
	<-j.exited
	_ = j.f.Sync()
	_ = j.f.Close()
}
