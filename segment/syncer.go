package segment

import (
	"sync"
	"sync/atomic"

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
// fdatasync and nothing else. A second round may start while one is in
// flight, once a file has gathered enough marks (syncer_rounds.go);
// generations are still published as done in order.
type Syncer struct {
	gen  atomic.Uint64 // the open generation; written only under mu
	done atomic.Uint64

	mu    sync.Mutex
	dirty []*syncFile

	wake chan struct{}
	quit chan struct{}
	exit chan struct{}
	once sync.Once

	subMu  sync.Mutex
	nextID int
	subs   atomic.Pointer[[]subscriber]

	// Rounds (syncer_rounds.go): free holds the idle ones, flying those
	// started and not yet published, oldest first (run goroutine only);
	// runners take started rounds from starts and hand them back on ended.
	pool   [maxRounds]round
	free   []*round
	flying []*round
	starts chan *round
	ended  chan *round
	ripe   atomic.Bool // a file of the open generation has overlap marks

	workersMu sync.Mutex
	jobs      chan job // the workers of syncParallel, started by the first round with several files

	// overlap is how many marks a file gathers before a round starts while
	// another is in flight (0: rounds never overlap).
	overlap uint32
	// datasync makes a file durable: (*syncFile).sync, or a test's stand-in.
	datasync func(*syncFile) error

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
	s.overlap = overlapMarks
	s.datasync = (*syncFile).sync
	s.initRounds()
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
	ripe := f.marks == s.overlap
	f.mu.Unlock()
	if in {
		if ripe {
			s.ripen()
		}
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
	if ripe {
		s.ripe.Store(true)
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return g
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
