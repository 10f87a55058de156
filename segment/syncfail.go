package segment

import (
	"slices"
	"sync/atomic"
)

// A failed round records which log's file failed, so that a publish is
// nacked only if its records were in that log: one queue's failing file
// must not take down the confirms of every queue that shared the
// generation.

// failure is a generation that did not make a file of log owner safe.
type failure struct {
	gen   uint64
	owner uint64 // Log.id
}

// logIDs numbers logs for failure records (not pointers: a deleted queue's
// log must not be kept alive by an old failure).
var logIDs atomic.Uint64

func newLogID() uint64 { return logIDs.Add(1) }

// fail records that generation g did not make everything it covers in f
// safe. It runs before g is published as done, so whoever sees Done() >= g
// also sees the failure.
func (s *Syncer) fail(g uint64, f *syncFile) {
	s.failMu.Lock()
	fl := failure{gen: g, owner: f.log}
	if !slices.Contains(s.failed, fl) {
		i, _ := slices.BinarySearchFunc(s.failed, g, func(x failure, g uint64) int { return cmpGen(x.gen, g) })
		s.failed = slices.Insert(s.failed, i, fl)
	}
	s.nfailed.Store(int32(len(s.failed)))
	s.failMu.Unlock()
}

func cmpGen(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Failed reports whether a generation in [from, to] failed to write or sync
// one of its files: a record that got such a generation may not be on disk
// although Done() passed it. Failures are rare (each stops its file taking
// appends), so the list stays short.
func (s *Syncer) Failed(from, to uint64) bool { return s.failedFor(from, to, 0) }

// failedFor is Failed for the files of one log (owner 0: any log).
func (s *Syncer) failedFor(from, to, owner uint64) bool {
	if s.nfailed.Load() == 0 {
		return false
	}
	s.failMu.Lock()
	defer s.failMu.Unlock()
	i, _ := slices.BinarySearchFunc(s.failed, from, func(x failure, g uint64) int { return cmpGen(x.gen, g) })
	for ; i < len(s.failed) && s.failed[i].gen <= to; i++ {
		if owner == 0 || s.failed[i].owner == owner {
			return true
		}
	}
	return false
}

// CommitFailed reports whether the commit of a generation in [from, to]
// failed for one of this log's files (a segment or its directory): a
// record of this log that got such a generation may not be on disk.
func (l *Log) CommitFailed(from, to uint64) bool {
	if l.opt.Syncer == nil {
		return false
	}
	return l.opt.Syncer.failedFor(from, to, l.id)
}
