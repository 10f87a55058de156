package segment

import (
	"math"
	"sync/atomic"
)

// SyncStats are the syncer's figures for metrics: how long each fdatasync
// took and how many files each round (one group commit) synced. They are
// updated by the syncer's goroutines once per file synced, never on an append.
type SyncStats struct {
	Latency Histogram // seconds per fdatasync (with its staged writes)
	Batch   Histogram // files per round
}

// Stats is the syncer's SyncStats.
func (s *Syncer) SyncStats() *SyncStats { return &s.stats }

// Histogram counts observations into fixed cumulative-upper-bound buckets,
// as a Prometheus histogram has them; safe to read while being written.
type Histogram struct {
	Bounds []float64       // upper bounds, ascending; +Inf is implied
	counts []atomic.Uint64 // per bucket (len(Bounds)+1), not cumulative
	sum    atomic.Uint64   // float64 bits
	n      atomic.Uint64
}

func newHistogram(bounds []float64) Histogram {
	return Histogram{Bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// Observe adds v; overlapping rounds observe from several goroutines.
func (h *Histogram) Observe(v float64) {
	i := 0
	for i < len(h.Bounds) && v > h.Bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			break
		}
	}
	h.n.Add(1)
}

// Snapshot returns the cumulative bucket counts (the last is +Inf), the
// sum and the count.
func (h *Histogram) Snapshot() (cumulative []uint64, sum float64, count uint64) {
	cumulative = make([]uint64, len(h.counts))
	var c uint64
	for i := range h.counts {
		c += h.counts[i].Load()
		cumulative[i] = c
	}
	return cumulative, math.Float64frombits(h.sum.Load()), c
}

// fsyncBounds span a RAM-backed disk (tens of µs) to a struggling one
// (seconds); batchBounds one file to many queues sharing a round.
var (
	fsyncBounds = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}
	batchBounds = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}
)

func newSyncStats() SyncStats {
	return SyncStats{Latency: newHistogram(fsyncBounds), Batch: newHistogram(batchBounds)}
}
