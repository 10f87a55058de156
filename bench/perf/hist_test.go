package perf

import (
	"math"
	"testing"
)

func TestHistIndexRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 255, 256, 1000, 12345, 1e6, 1e9, 3e12} {
		got := histValue(histIndex(v))
		if d := math.Abs(float64(got-v)) / math.Max(1, float64(v)); d > 0.008 {
			t.Errorf("v=%d bucket value %d (%.3f%%)", v, got, d*100)
		}
	}
	prev := -1
	for v := int64(0); v < 1<<20; v += 7 {
		i := histIndex(v)
		if i < prev {
			t.Fatalf("index not monotonic at %d", v)
		}
		prev = i
	}
	if histIndex(math.MaxInt64) != histBuckets-1 || histIndex(-5) != 0 {
		t.Fatal("clamping")
	}
}

func TestHistQuantiles(t *testing.T) {
	h := NewHist()
	for v := int64(1); v <= 10000; v++ {
		h.Record(v * 1000) // 1µs .. 10ms
	}
	o := NewHist()
	o.Record(50e6)
	h.Merge(o)
	check := func(q float64, want int64) {
		got := h.Quantile(q)
		if math.Abs(float64(got-want))/float64(want) > 0.01 {
			t.Errorf("q%.4f = %d, want ~%d", q, got, want)
		}
	}
	check(0.5, 5000e3)
	check(0.99, 9900e3)
	check(0.999, 9990e3)
	if h.Count() != 10001 || h.Max() != 50e6 || h.Quantile(1) != 50e6 {
		t.Fatalf("count %d max %d q1 %d", h.Count(), h.Max(), h.Quantile(1))
	}
	if NewHist().Quantile(0.5) != 0 {
		t.Fatal("empty")
	}
}
