package perf

import (
	"context"
	"fmt"
	"io"
	"time"
)

// brokerWatch samples the broker process; peak RSS is the largest sample.
type brokerWatch struct {
	pid      int
	first    ProcSample
	last     ProcSample
	peakRSS  int64
	lastTime time.Time
}

func newBrokerWatch(pid int) (*brokerWatch, error) {
	if pid <= 0 {
		return nil, nil
	}
	s, err := ReadProc(pid)
	if err != nil {
		return nil, fmt.Errorf("broker pid %d: %w", pid, err)
	}
	return &brokerWatch{pid: pid, first: s, last: s, peakRSS: s.RSSBytes, lastTime: time.Now()}, nil
}

// sample reads the broker again and returns CPU use since the previous sample
// as a fraction of one core.
func (b *brokerWatch) sample() float64 {
	s, err := ReadProc(b.pid)
	if err != nil {
		return 0
	}
	now := time.Now()
	cpu := (s.CPUSeconds - b.last.CPUSeconds) / now.Sub(b.lastTime).Seconds()
	b.last, b.lastTime = s, now
	b.peakRSS = max(b.peakRSS, s.RSSBytes)
	return cpu
}

// progress prints one line per second until ctx ends.
func progress(ctx context.Context, w io.Writer, st *Stats, bw *brokerWatch, start time.Time) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var pp, pc, pd int64
	prev := start
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			p, c, _, d := st.Totals()
			dt := now.Sub(prev).Seconds()
			line := fmt.Sprintf("[%5.1fs] publish %9.0f/s  confirm %9.0f/s  deliver %9.0f/s  (total %d/%d/%d)",
				now.Sub(start).Seconds(), float64(p-pp)/dt, float64(c-pc)/dt, float64(d-pd)/dt, p, c, d)
			if bw != nil {
				cpu := bw.sample()
				line += fmt.Sprintf("  broker cpu %3.0f%% rss %.0f MB", cpu*100, float64(bw.last.RSSBytes)/(1<<20))
			}
			fmt.Fprintln(w, line)
			pp, pc, pd, prev = p, c, d, now
		}
	}
}
