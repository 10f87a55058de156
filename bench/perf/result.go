package perf

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Result is a run's outcome; it is printed as one `RESULT {json}` line.
type Result struct {
	Name        string  `json:"name,omitempty"`
	Client      string  `json:"client"`
	Summary     string  `json:"summary"`
	Seconds     float64 `json:"seconds"`
	Published   int64   `json:"published"`
	Confirmed   int64   `json:"confirmed"`
	Nacked      int64   `json:"nacked"`
	Delivered   int64   `json:"delivered"`
	Stale       int64   `json:"stale,omitempty"`  // deliveries from an earlier run, not counted
	Late        int64   `json:"late,omitempty"`   // deliveries after the measured interval (while connections closed), not in the rate
	Search      string  `json:"search,omitempty"` // sustained-rate search: the paced trials
	PublishRate float64 `json:"publish_rate"`
	ConfirmRate float64 `json:"confirm_rate"`
	DeliverRate float64 `json:"deliver_rate"`
	LatencyN    uint64  `json:"latency_samples"`
	P50Us       float64 `json:"latency_p50_us"`
	P99Us       float64 `json:"latency_p99_us"`
	P999Us      float64 `json:"latency_p999_us"`
	MaxUs       float64 `json:"latency_max_us"`
	BrokerPID   int     `json:"broker_pid,omitempty"`
	CPUSeconds  float64 `json:"broker_cpu_s,omitempty"`
	CPUUsPerMsg float64 `json:"broker_cpu_us_per_msg,omitempty"`
	RSSMB       float64 `json:"broker_rss_mb,omitempty"`
	RSSPeakMB   float64 `json:"broker_rss_peak_mb,omitempty"`
	RSSAfterMB  float64 `json:"broker_rss_after_mb,omitempty"` // matrix: RSS a pause after the case ended
	ClientCPU   float64 `json:"client_cpu_s"`                  // this process, all connections
	ClientUsMsg float64 `json:"client_cpu_us_per_msg"`         // per published + delivered message
	OtherCPU    float64 `json:"other_cpu_s"`                   // machine CPU used by processes other than broker and client
	// Per-queue deliveries (runs with several queues and consumers):
	// the least and most delivered from one queue, and their ratio.
	QueueMin     int64    `json:"queue_delivered_min,omitempty"`
	QueueMax     int64    `json:"queue_delivered_max,omitempty"`
	Fairness     float64  `json:"queue_max_over_min,omitempty"`
	PubFairness  float64  `json:"queue_published_max_over_min,omitempty"` // the same for what was published to each queue
	Connections  int      `json:"connections,omitempty"`
	Scrapes      int      `json:"scrapes,omitempty"` // metrics GETs that succeeded
	ScrapeErrors int      `json:"scrape_errors,omitempty"`
	ScrapeAvgMs  float64  `json:"scrape_avg_ms,omitempty"`
	ScrapeMaxMs  float64  `json:"scrape_max_ms,omitempty"`
	ScrapeBytes  int64    `json:"scrape_bytes,omitempty"`
	Syncs        float64  `json:"syncs,omitempty"`         // data syncs the broker reported during the run (RabbitMQ: node-wide)
	MsgsPerSync  float64  `json:"msgs_per_sync,omitempty"` // confirmed (or published) messages per sync
	Skipped      string   `json:"skipped,omitempty"`       // why a matrix case did not run
	Errors       []string `json:"errors,omitempty"`
	Warnings     []string `json:"warnings,omitempty"` // e.g. a close the broker did not answer in time
}

// ParseResult reads a `RESULT {json}` line (the prefix is optional).
func ParseResult(line string) (Result, error) {
	var r Result
	err := json.Unmarshal([]byte(strings.TrimPrefix(strings.TrimSpace(line), "RESULT ")), &r)
	return r, err
}

// JSONLine is the `RESULT {json}` line.
func (r *Result) JSONLine() string {
	b, _ := json.Marshal(r)
	return "RESULT " + string(b)
}

// Print writes the human summary and the RESULT line.
func (r *Result) Print(w io.Writer) {
	fmt.Fprintf(w, "--- %s\n", r.Summary)
	fmt.Fprintf(w, "time        %.2f s\n", r.Seconds)
	fmt.Fprintf(w, "published   %d (%.0f msg/s)\n", r.Published, r.PublishRate)
	if r.Confirmed > 0 || r.Nacked > 0 {
		fmt.Fprintf(w, "confirmed   %d (%.0f msg/s), nacked %d\n", r.Confirmed, r.ConfirmRate, r.Nacked)
	}
	fmt.Fprintf(w, "delivered   %d (%.0f msg/s)\n", r.Delivered, r.DeliverRate)
	if r.Search != "" {
		fmt.Fprintf(w, "search      %s\n", r.Search)
	}
	if r.Late > 0 {
		fmt.Fprintf(w, "late        %d deliveries after the end (while connections closed; not in the rate)\n", r.Late)
	}
	if r.Stale > 0 {
		fmt.Fprintf(w, "stale       %d deliveries published before this run (ignored)\n", r.Stale)
	}
	if r.LatencyN > 0 {
		fmt.Fprintf(w, "latency     p50 %s  p99 %s  p99.9 %s  max %s  (%d samples)\n",
			fmtUs(r.P50Us), fmtUs(r.P99Us), fmtUs(r.P999Us), fmtUs(r.MaxUs), r.LatencyN)
	}
	if r.BrokerPID > 0 {
		fmt.Fprintf(w, "broker      pid %d: cpu %.2f s (%.2f µs/msg), rss %.1f MB (peak %.1f MB)\n",
			r.BrokerPID, r.CPUSeconds, r.CPUUsPerMsg, r.RSSMB, r.RSSPeakMB)
	}
	if r.Syncs > 0 {
		fmt.Fprintf(w, "syncs       %.0f data syncs in the broker, %.0f messages per sync\n", r.Syncs, r.MsgsPerSync)
	}
	if r.Fairness > 0 {
		fmt.Fprintf(w, "queues      delivered per queue min %d max %d (max/min %.2f; published max/min %.2f)\n", r.QueueMin, r.QueueMax, r.Fairness, r.PubFairness)
	}
	if r.Scrapes > 0 || r.ScrapeErrors > 0 {
		fmt.Fprintf(w, "scrapes     %d ok, %d failed; avg %.1f ms, max %.1f ms, %d bytes\n", r.Scrapes, r.ScrapeErrors, r.ScrapeAvgMs, r.ScrapeMaxMs, r.ScrapeBytes)
	}
	fmt.Fprintf(w, "client      cpu %.2f s (%.2f µs per message published or delivered)\n", r.ClientCPU, r.ClientUsMsg)
	fmt.Fprintf(w, "other       cpu %.2f s used meanwhile by other processes on this machine\n", r.OtherCPU)
	for _, e := range r.Errors {
		fmt.Fprintf(w, "error       %s\n", e)
	}
	for _, e := range r.Warnings {
		fmt.Fprintf(w, "warning     %s\n", e)
	}
	fmt.Fprintln(w, r.JSONLine())
}

// fmtUs formats microseconds with a unit that keeps 3 significant digits.
func fmtUs(us float64) string {
	switch {
	case us >= 1e6:
		return fmt.Sprintf("%.2fs", us/1e6)
	case us >= 1e3:
		return fmt.Sprintf("%.2fms", us/1e3)
	}
	return fmt.Sprintf("%.0fµs", us)
}
