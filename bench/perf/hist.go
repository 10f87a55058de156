package perf

import "math/bits"

// Hist is a log-linear latency histogram over nanoseconds with 128
// sub-buckets per power of two (under 0.8% relative error). It is not safe
// for concurrent use: each consumer owns one and they are merged at the end.
type Hist struct {
	counts []uint64
	n      uint64
	max    int64
}

const (
	histSub     = 128
	histSubBits = 7
	histExps    = 40 // covers 2^47 ns, about 39 hours
	histBuckets = histSub * (histExps + 1)
)

// NewHist returns an empty histogram.
func NewHist() *Hist { return &Hist{counts: make([]uint64, histBuckets)} }

func histIndex(v int64) int {
	if v < histSub {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	e := bits.Len64(uint64(v)) - histSubBits - 1 // v>>e in [128, 255]
	if e >= histExps {
		return histBuckets - 1
	}
	return histSub + e*histSub + int(uint64(v)>>e) - histSub
}

// histValue is the midpoint of bucket i.
func histValue(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	e := (i - histSub) / histSub
	m := int64((i-histSub)%histSub + histSub)
	return m<<e + (int64(1)<<e)/2
}

// Record adds one sample (ns).
func (h *Hist) Record(v int64) {
	h.counts[histIndex(v)]++
	h.n++
	if v > h.max {
		h.max = v
	}
}

// Merge adds o's samples into h.
func (h *Hist) Merge(o *Hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// Count is the number of samples.
func (h *Hist) Count() uint64 { return h.n }

// Max is the largest sample.
func (h *Hist) Max() int64 { return h.max }

// Quantile returns the value at quantile q in [0,1] (0 when empty).
func (h *Hist) Quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	if rank == h.n {
		return h.max
	}
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return min(histValue(i), h.max)
		}
	}
	return h.max
}
