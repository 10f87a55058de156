package segment

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/warrenmq/warren/segment/sysfile"
)

// Syncer makes appended records durable in groups. One Syncer serves every
// log of a broker, so a single fdatasync per dirty file covers whatever all
// queues and connections appended to it since the last round.
//
// Generations: the open generation collects dirty files. A round closes it
// (appends from then on join the next one), fdatasyncs each of its files once
// and then publishes it as done. An append that returned generation g is on
// disk once Done() >= g. Rounds run back to back while files are dirty and
// not at all when idle: there is no timer, so a lone publish waits for one
// fdatasync and nothing else.
type Syncer struct {
	gen  atomic.Uint64 // the open generation; written only under mu
	done atomic.Uint64

	mu    sync.Mutex
	dirty []*syncFile
	spare []*syncFile

	wake chan struct{}
	quit chan struct{}
	exit chan struct{}
	once sync.Once

	subMu  sync.Mutex
	nextID int
	subs   atomic.Pointer[[]subscriber]

	// The workers of syncParallel, and the round they work on (set
	// before its jobs are sent; durs is read after wg.Wait).
	jobs       chan int
	wg         sync.WaitGroup
	roundG     uint64
	roundFiles []*syncFile
	durs       []time.Duration

	rounds, syncs atomic.Uint64
	records       atomic.Uint64 // marks covered by finished rounds
	stats         SyncStats     // syncer_stats.go

	failMu  sync.Mutex
	failed  []failure // generations that failed a file (syncfail.go), by generation
	nfailed atomic.Int32

	policy SyncPolicy
}

// SyncPolicy is what a round does before it declares its generation done,
// that is, before the publishes it covers are confirmed.
type SyncPolicy uint8

const (
	// SyncData writes a round's staged records and fdatasyncs every file
	// it dirtied: a confirmed message survives a power loss.
	SyncData SyncPolicy = iota
	// SyncWrite only writes the staged records to the kernel: a confirmed
	// message survives a crash or SIGKILL of the broker (the page cache
	// keeps it) but not of the machine. RabbitMQ's streams and LavinMQ
	// confirm on the same terms; it saves the fdatasync round trip that
	// bounds a single publisher with a small confirm window.
	SyncWrite
)

type subscriber struct {
	id int
	fn func(uint64)
}

// NewSyncer starts the syncer goroutine with the SyncData policy.
func NewSyncer() *Syncer { return NewSyncerPolicy(SyncData) }

// NewSyncerPolicy starts the syncer goroutine with the given policy.
func NewSyncerPolicy(p SyncPolicy) *Syncer {
	s := &Syncer{
		wake:   make(chan struct{}, 1),
		quit:   make(chan struct{}),
		exit:   make(chan struct{}),
		policy: p,
	}
	s.gen.Store(1)
	s.stats = newSyncStats()
	go s.run()
	return s
}

// Subscribe calls fn with the completed generation after every round, on
// the syncer goroutine: fn must be quick and must not call back into logs.
func (s *Syncer) Subscribe(fn func(doneGen uint64)) (cancel func()) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	s.nextID++
	id := s.nextID
	var old []subscriber
	if p := s.subs.Load(); p != nil {
		old = *p
	}
	subs := append(append([]subscriber(nil), old...), subscriber{id, fn})
	s.subs.Store(&subs)
	return func() {
		s.subMu.Lock()
		defer s.subMu.Unlock()
		cur := *s.subs.Load()
		next := make([]subscriber, 0, len(cur))
		for _, sub := range cur {
			if sub.id != id {
				next = append(next, sub)
			}
		}
		s.subs.Store(&next)
	}
}

// Done is the last completed generation.
func (s *Syncer) Done() uint64 { return s.done.Load() }

// Stats counts rounds and fdatasync calls so far, for metrics and tests.
func (s *Syncer) Stats() (rounds, syncs uint64) { return s.rounds.Load(), s.syncs.Load() }

// Records is how many appends (records, and directory entries of new
// segments) the fdatasyncs so far covered: Records over the syncs of
// Stats is the messages per fdatasync of group commit.
func (s *Syncer) Records() uint64 { return s.records.Load() }

// Close runs a last round for what is dirty and stops the goroutine. Close
// the logs first: appends after Close are never synced.
func (s *Syncer) Close() {
	s.once.Do(func() { close(s.quit) })
	<-s.exit
}

// mark puts f in the open generation and returns that generation. The
// caller has already written its bytes, so the round that closes this
// generation starts its fdatasync after them.
func (s *Syncer) mark(f *syncFile) uint64 {
	// Fast path: f is already in the open generation's list. f.mu orders
	// this check against the round's barrier on f (see round): either we
	// ran first, and our write happens before that round's fdatasync, or
	// the round ran first, and we see the next generation and join it.
	f.mu.Lock()
	g := s.gen.Load()
	in := f.gen == g
	f.marks++
	f.mu.Unlock()
	if in {
		return g
	}
	s.mu.Lock()
	g = s.gen.Load()
	f.mu.Lock()
	if f.gen != g {
		f.gen = g
		f.refs.Add(1) // the list's reference keeps the fd open until synced
		s.dirty = append(s.dirty, f)
	}
	f.mu.Unlock()
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return g
}

func (s *Syncer) run() {
	defer close(s.exit)
	for {
		select {
		case <-s.wake:
			s.round()
		case <-s.quit:
			for s.round() {
			}
			if s.jobs != nil {
				close(s.jobs)
			}
			return
		}
	}
}

// round syncs one generation; it reports whether there was anything to do.
func (s *Syncer) round() bool {
	s.mu.Lock()
	files := s.dirty
	s.dirty = s.spare[:0]
	g := s.gen.Load()
	s.gen.Store(g + 1)
	s.mu.Unlock()
	if len(files) == 0 {
		// Nothing dirty: an empty generation is done at once.
		s.finish(g)
		s.spare = files
		return false
	}
	s.stats.Batch.Observe(float64(len(files)))
	if len(files) == 1 {
		s.observe(s.syncOne(g, files[0]))
		files[0] = nil
	} else {
		s.syncParallel(g, files)
	}
	s.spare = files[:0]
	s.rounds.Add(1)
	s.finish(g)
	return true
}

// syncOne writes f's staged records and fdatasyncs it for generation g,
// and says how long that took.
func (s *Syncer) syncOne(g uint64, f *syncFile) time.Duration {
	start := time.Now()
	f.mu.Lock() // also the barrier for mark's fast path
	f.syncing = g
	marks := f.marks
	f.marks = 0
	f.mu.Unlock()
	s.records.Add(uint64(marks))
	if w := f.w.Load(); w != nil {
		// Staged records first, then the fdatasync.
		if err := w.flushFor(f); err != nil {
			f.fail(err)
			slog.Error("segment: writing staged records failed; the segment is retired at the next append", "err", err)
		}
	}
	if s.policy == SyncData {
		if err := f.sync(); err != nil {
			f.fail(err)
			slog.Error("segment: fdatasync failed; the segment is retired at the next append", "err", err)
		}
		s.syncs.Add(1)
	}
	if f.Err() != nil {
		// Records of this generation in f may not be on disk: their
		// publishes must not be confirmed.
		s.fail(g, f)
	}
	d := time.Since(start)
	f.release()
	return d
}

// maxParallelSyncs is how many files of one round are synced at once.
// One round's files (one per queue with new persistent records) are
// independent, and a generation is done only when all are: synced one
// after the other, four queues' round took four fdatasync latencies, and
// 4 publishers with 1,024-message windows waited on that (issue 19).
const maxParallelSyncs = 8

// syncParallel syncs the files of one round on the syncer's workers
// (started on the first round with more than one file) and waits for all.
func (s *Syncer) syncParallel(g uint64, files []*syncFile) {
	if s.jobs == nil {
		s.jobs = make(chan int, maxParallelSyncs)
		for range maxParallelSyncs {
			go s.syncWorker()
		}
	}
	s.roundG, s.roundFiles = g, files
	if cap(s.durs) < len(files) {
		s.durs = make([]time.Duration, len(files))
	}
	s.durs = s.durs[:len(files)]
	s.wg.Add(len(files))
	for i := range files {
		s.jobs <- i
	}
	s.wg.Wait()
	for i := range files {
		s.observe(s.durs[i])
		files[i] = nil
	}
	s.roundFiles = nil
}

// observe records one file's write and fdatasync time; under SyncWrite
// there is no fdatasync to time.
func (s *Syncer) observe(d time.Duration) {
	if s.policy == SyncData {
		s.stats.Latency.Observe(d.Seconds())
	}
}

func (s *Syncer) syncWorker() {
	for i := range s.jobs {
		s.durs[i] = s.syncOne(s.roundG, s.roundFiles[i])
		s.wg.Done()
	}
}

func (s *Syncer) finish(g uint64) {
	s.done.Store(g)
	if p := s.subs.Load(); p != nil {
		for _, sub := range *p {
			sub.fn(g)
		}
	}
}

// syncFile is an fd shared by a log and the syncer. Each holds a reference;
// the last one to let go closes the fd, so the syncer never fsyncs a closed
// (or reused) descriptor while a log seals or deletes the file.
type syncFile struct {
	fd  int
	dir bool   // directories get fsync: fdatasync is not defined for them everywhere
	log uint64 // the Log's id, for failure records (syncfail.go)
	mu  sync.Mutex
	gen uint64 // generation whose list holds f; guarded by mu
	// syncing is the generation of the last round that synced f; guarded by mu.
	syncing uint64
	marks   uint32 // appends marked since the last round took them; guarded by mu
	refs    atomic.Int32
	err     atomic.Pointer[error]
	w       atomic.Pointer[wbuf] // the log's staging buffer while f is its head
	head    *wbuf                // the log's staging buffer, to retire its head on a failure
}

func newSyncFile(fd int, dir bool) *syncFile {
	f := &syncFile{fd: fd, dir: dir}
	f.refs.Store(1)
	return f
}

func (f *syncFile) sync() error {
	if f.dir {
		for {
			if err := unix.Fsync(f.fd); err != unix.EINTR {
				return err
			}
		}
	}
	return sysfile.Datasync(f.fd)
}

// setErr records err. REQUIRES: the head's wbuf.mu held, if f is a head;
// otherwise use fail.
func (f *syncFile) setErr(err error) { f.err.CompareAndSwap(nil, &err) }

// fail records err and tells the log, whose next append retires the head.
func (f *syncFile) fail(err error) {
	if f.err.CompareAndSwap(nil, &err) && f.head != nil {
		f.head.ownerFailed(f)
	}
}

// Err is the first fdatasync error on the file, if any.
func (f *syncFile) Err() error {
	if p := f.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (f *syncFile) release() {
	if f.refs.Add(-1) == 0 {
		_ = unix.Close(f.fd)
	}
}
