package perf

import (
	"context"
	"io"
	"net/http"
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
