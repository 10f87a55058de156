package perf

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// scraper GETs a metrics URL every period while a run lasts, as a
// Prometheus server would, and keeps the count, failures and timings.
type scraper struct {
	url    string
	every  time.Duration
	mu     sync.Mutex
	n      int
	errs   int
	bytes  int64
	total  time.Duration
	max    time.Duration
	lastEr string
}

func (s *scraper) run(ctx context.Context) {
	cl := &http.Client{Timeout: 5 * time.Second}
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		s.once(ctx, cl)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *scraper) once(ctx context.Context, cl *http.Client) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		s.fail(err.Error())
		return
	}
	t0 := time.Now()
	resp, err := cl.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			s.fail(err.Error())
		}
		return
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if err != nil || resp.StatusCode != http.StatusOK {
		if ctx.Err() == nil {
			msg := resp.Status
			if err != nil {
				msg = err.Error()
			}
			s.fail(msg)
		}
		return
	}
	s.mu.Lock()
	s.n++
	s.bytes += n
	s.total += d
	s.max = max(s.max, d)
	s.mu.Unlock()
}

func (s *scraper) fail(msg string) {
	s.mu.Lock()
	s.errs++
	s.lastEr = msg
	s.mu.Unlock()
}

// fill copies the scrape figures into r.
func (s *scraper) fill(r *Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.Scrapes, r.ScrapeErrors = s.n, s.errs
	if s.n > 0 {
		r.ScrapeAvgMs = float64(s.total.Microseconds()) / 1e3 / float64(s.n)
		r.ScrapeMaxMs = float64(s.max.Microseconds()) / 1e3
		r.ScrapeBytes = s.bytes / int64(s.n)
	}
	if s.errs > 0 {
		r.Errors = append(r.Errors, "scrape "+s.url+": "+s.lastEr)
	}
}

// syncCounters are the Prometheus counters of data syncs: Warren's
// fdatasync histogram count, RabbitMQ's io sync operations (node-wide).
var syncCounters = []string{"warren_fsync_duration_seconds_count", "rabbitmq_io_sync_ops_total"}

// readSyncs GETs url and sums the sync counters in it; ok is false when
// the endpoint fails or has none of them.
func readSyncs(url string) (n float64, ok bool) {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0, false
	}
	for _, line := range strings.Split(string(body), "\n") {
		for _, name := range syncCounters {
			if !strings.HasPrefix(line, name) {
				continue
			}
			rest := line[len(name):]
			if rest != "" && rest[0] != ' ' && rest[0] != '{' {
				continue
			}
			f := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
			if len(f) == 0 {
				continue
			}
			if v, err := strconv.ParseFloat(f[0], 64); err == nil {
				n, ok = n+v, true
			}
		}
	}
	return n, ok
}
