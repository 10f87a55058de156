package segment

import (
	"log/slog"
	"sync"
	"time"
)

// Overlapping rounds. A round's fdatasync takes ~0.5 ms on the VMs we
// measure on, and what is appended meanwhile waits for the round in
// progress and then its own: a publisher with a 256-message confirm window
// saw two rounds per window, ~131 messages per fdatasync. Two fdatasyncs
// of the same file overlap in the kernel (bench/cmd/warren-fsynccost: 1.3-
// 1.4× the durable writes per second with two writers of one fallocated
// file), so a second round starts while the first is in flight once a
// file of the open generation has overlapMarks marks. Below that (a
// moderate rate: 5 k msg/s gathers ~2.5 in a round) rounds stay back to
// back: an overlapping round of a message or two would only add
// fdatasyncs, whose CPU is the bound there (~150 µs each, see
// docs/BENCHMARKS.md). 8 measured better than 32 for one publisher with a
// 256 window (BenchmarkSyncerWindow, case 3s).
const (
	maxRounds    = 2
	overlapMarks = 8
)

// round is one generation being written and synced.
type round struct {
	g     uint64
	files []*syncFile
	durs  []time.Duration
	wg    sync.WaitGroup
	done  bool // its files are synced; run goroutine only
}

// job is file i of round r, for a worker of syncParallel.
type job struct {
	r *round
	i int
}

func (s *Syncer) initRounds() {
	s.starts = make(chan *round, maxRounds)
	s.ended = make(chan *round, maxRounds)
	for i := range s.pool {
		s.free = append(s.free, &s.pool[i])
	}
	for range maxRounds {
		go s.runner()
	}
}

// ripen wakes the run goroutine to start an overlapping round.
func (s *Syncer) ripen() {
	s.ripe.Store(true)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Syncer) run() {
	defer close(s.exit)
	for {
		s.startRounds()
		select {
		case <-s.wake:
		case r := <-s.ended:
			s.landed(r)
		case <-s.quit:
			for len(s.flying) > 0 {
				s.landed(<-s.ended)
			}
			for s.startRound() {
				s.landed(<-s.ended)
			}
			close(s.starts)
			s.workersMu.Lock()
			if s.jobs != nil {
				close(s.jobs)
			}
			s.workersMu.Unlock()
			return
		}
	}
}

// startRounds starts a round if none is in flight, or a second one if the
// open generation is ripe; either only if something is dirty.
func (s *Syncer) startRounds() {
	for len(s.free) > 0 && (len(s.flying) == 0 || s.ripe.Load()) {
		if !s.startRound() {
			return
		}
	}
}

// startRound closes the open generation and hands it to a runner; it
// reports false, starting nothing, when no file is dirty.
func (s *Syncer) startRound() bool {
	s.ripe.Store(false)
	s.mu.Lock()
	if len(s.dirty) == 0 {
		// Every generation mark returned has a file in its list, so an
		// empty one needs no round: nobody waits for it.
		s.mu.Unlock()
		return false
	}
	r := s.free[len(s.free)-1]
	s.free = s.free[:len(s.free)-1]
	r.files, s.dirty = s.dirty, r.files[:0]
	r.g = s.gen.Load()
	s.gen.Store(r.g + 1)
	s.mu.Unlock()
	r.done = false
	s.flying = append(s.flying, r)
	s.stats.Batch.Observe(float64(len(r.files)))
	s.starts <- r
	return true
}

// landed notes that r's files are synced and publishes, in order, every
// generation whose round and those before it are done.
func (s *Syncer) landed(r *round) {
	r.done = true
	n := 0
	for n < len(s.flying) && s.flying[n].done {
		f := s.flying[n]
		s.rounds.Add(1)
		s.finish(f.g)
		s.free = append(s.free, f)
		n++
	}
	if n > 0 {
		k := copy(s.flying, s.flying[n:])
		clear(s.flying[k:])
		s.flying = s.flying[:k]
	}
}

// runner syncs the rounds the run goroutine starts.
func (s *Syncer) runner() {
	for r := range s.starts {
		if len(r.files) == 1 {
			s.observe(s.syncOne(r.g, r.files[0]))
			r.files[0] = nil
		} else {
			s.syncParallel(r)
		}
		r.files = r.files[:0]
		s.ended <- r
	}
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
		if err := s.datasync(f); err != nil {
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

// syncParallel syncs the files of r on the syncer's workers (started on
// the first round with more than one file) and waits for all.
func (s *Syncer) syncParallel(r *round) {
	s.startWorkers()
	if cap(r.durs) < len(r.files) {
		r.durs = make([]time.Duration, len(r.files))
	}
	r.durs = r.durs[:len(r.files)]
	r.wg.Add(len(r.files))
	for i := range r.files {
		s.jobs <- job{r, i}
	}
	r.wg.Wait()
	for i := range r.files {
		s.observe(r.durs[i])
		r.files[i] = nil
	}
}

// startWorkers starts the workers once; two runners may race to it.
func (s *Syncer) startWorkers() {
	s.workersMu.Lock()
	if s.jobs == nil {
		s.jobs = make(chan job, maxRounds*maxParallelSyncs)
		for range maxParallelSyncs {
			go s.syncWorker()
		}
	}
	s.workersMu.Unlock()
}

func (s *Syncer) syncWorker() {
	for j := range s.jobs {
		j.r.durs[j.i] = s.syncOne(j.r.g, j.r.files[j.i])
		j.r.wg.Done()
	}
}

// observe records one file's write and fdatasync time; under SyncWrite
// there is no fdatasync to time.
func (s *Syncer) observe(d time.Duration) {
	if s.policy == SyncData {
		s.stats.Latency.Observe(d.Seconds())
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
