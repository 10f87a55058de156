package perf

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// Case is one row of the standard matrix.
type Case struct {
	ID   string
	Name string
	Set  func(c *Config, d time.Duration) // shapes the run from Defaults; d is the case duration
	// Needs names what the case needs besides the AMQP URI: "tls"
	// (MatrixOptions.TLSURI), "mgmt" (MgmtURL, to create a user) or
	// "metrics" (MetricsURL). Without it the case is reported as skipped.
	Needs string
	Group string // "base", "crosscheck", "features", "clients", "latency"
	// Search: instead of one run, paced trials of SearchTrial each find the
	// highest rate the broker sustains (see SearchRate).
	Search bool
}

// Permission-checked user of case 11 (created and deleted by the matrix).
const (
	PermUser     = "perf-user"
	PermPassword = "perf-pass"
)

// StandardCases is the benchmark matrix run against every broker.
func StandardCases() []Case {
	oneToOne := func(size int) func(*Config, time.Duration) {
		return func(c *Config, d time.Duration) {
			c.Size, c.AutoAck, c.Duration = size, true, d
		}
	}
	with := func(f func(*Config, time.Duration), g func(*Config)) func(*Config, time.Duration) {
		return func(c *Config, d time.Duration) { f(c, d); g(c) }
	}
	amqp091 := func(c *Config) { c.Client = "amqp091" }
	smallWrites := func(c *Config) { c.BatchBytes = 4096 }
	manyClients := func(c *Config, d time.Duration) {
		c.Producers, c.Consumers, c.Queues, c.Size, c.AutoAck, c.Duration = 32, 32, 32, 16, true, d
	}
	manyConns := func(n int) func(*Config, time.Duration) {
		return func(c *Config, d time.Duration) {
			c.Producers, c.Consumers, c.Queues, c.Size, c.AutoAck, c.Duration = n, 32, 32, 16, true, d
			c.Rate, c.BatchBytes = float64(100*n), 4096
		}
	}
	return []Case{
		{ID: "1", Name: "1p/1c 16 B transient autoack", Set: oneToOne(16), Group: "base"},
		{ID: "1a", Name: "case 1 via amqp091-go", Set: with(oneToOne(16), amqp091), Group: "crosscheck"},
		{ID: "1b", Name: "case 1 via the fast client, 4 KiB writes", Set: with(oneToOne(16), smallWrites), Group: "crosscheck"},
		{ID: "1s", Name: "case 1 at the highest sustained rate (paced trials)", Set: oneToOne(16), Group: "crosscheck", Search: true},
		{ID: "2", Name: "1p/1c 1 KiB transient autoack", Set: oneToOne(1024), Group: "base"},
		{ID: "2a", Name: "case 2 via amqp091-go", Set: with(oneToOne(1024), amqp091), Group: "crosscheck"},
		{ID: "2b", Name: "case 2 via the fast client, 4 KiB writes", Set: with(oneToOne(1024), smallWrites), Group: "crosscheck"},
		{ID: "2s", Name: "case 2 at the highest sustained rate (paced trials)", Set: oneToOne(1024), Group: "crosscheck", Search: true},
		{ID: "3", Name: "1p/1c 1 KiB persistent durable confirm 256 ack/100", Set: func(c *Config, d time.Duration) {
			c.Size, c.Persistent, c.Durable, c.Confirm, c.Prefetch, c.MultiAck, c.Duration = 1024, true, true, 256, 1000, 100, d
		}, Group: "base"},
		{ID: "3s", Name: "1p/1c 16 B persistent durable confirm 256 ack/100", Set: func(c *Config, d time.Duration) {
			c.Size, c.Persistent, c.Durable, c.Confirm, c.Prefetch, c.MultiAck, c.Duration = 16, true, true, 256, 1000, 100, d
		}, Group: "base"},
		{ID: "3p", Name: "4p/4c over 4 queues 16 B persistent durable confirm 1024 ack/100", Set: func(c *Config, d time.Duration) {
			c.Producers, c.Consumers, c.Queues, c.Size, c.Persistent, c.Durable, c.Confirm, c.Prefetch, c.MultiAck, c.Duration = 4, 4, 4, 16, true, true, 1024, 2000, 100, d
		}, Group: "base"},
		{ID: "3q", Name: "4p publish-only over 4 queues 16 B persistent durable confirm 1024", Set: func(c *Config, d time.Duration) {
			c.Producers, c.Consumers, c.Queues, c.Size, c.Persistent, c.Durable, c.Confirm, c.Duration = 4, 0, 4, 16, true, true, 1024, d
		}, Group: "base"},
		{ID: "4", Name: "publish-only 1M x 100 B persistent durable", Set: func(c *Config, d time.Duration) {
			c.Consumers, c.Size, c.Persistent, c.Durable, c.PMessages = 0, 100, true, true, 1_000_000
			c.Duration = d + d/2 // a bound, the run stops at 1M
		}, Group: "base"},
		{ID: "5", Name: "fanout 1p -> 10 queues/10c 16 B autoack", Set: func(c *Config, d time.Duration) {
			c.Type, c.Queues, c.Consumers, c.Size, c.AutoAck, c.Duration = "fanout", 10, 10, 16, true, d
		}, Group: "base"},
		{ID: "6", Name: "topic 1000 bindings over 10 queues/10c 16 B autoack", Set: func(c *Config, d time.Duration) {
			c.Type, c.Bindings, c.Queues, c.Consumers, c.Size, c.AutoAck, c.Duration = "topic", 1000, 10, 10, 16, true, d
		}, Group: "base"},
		{ID: "7a", Name: "latency @10k/s 16 B transient autoack", Set: func(c *Config, d time.Duration) {
			c.Rate, c.Size, c.AutoAck, c.Duration = 10000, 16, true, d
		}, Group: "latency"},
		{ID: "7b", Name: "latency @10k/s 16 B persistent durable confirm 256 ack/100", Set: func(c *Config, d time.Duration) {
			c.Rate, c.Size, c.Persistent, c.Durable, c.Confirm, c.Prefetch, c.MultiAck, c.Duration = 10000, 16, true, true, 256, 1000, 100, d
		}, Group: "latency"},
		{ID: "7c", Name: "latency @5k/s 16 B persistent durable confirm 256 ack/100", Set: func(c *Config, d time.Duration) {
			c.Rate, c.Size, c.Persistent, c.Durable, c.Confirm, c.Prefetch, c.MultiAck, c.Duration = 5000, 16, true, true, 256, 1000, 100, d
		}, Group: "latency"},
		{ID: "8", Name: "TTL: x-message-ttl 60 s queue, expiration 30 s per message, 16 B autoack", Set: with(oneToOne(16), func(c *Config) {
			c.QueueTTL, c.Expiration = 60000, "30000"
		}), Group: "features"},
		{ID: "9", Name: "priority queue x-max-priority 10, priorities 0-9, 16 B autoack", Set: with(oneToOne(16), func(c *Config) {
			c.MaxPriority, c.Priorities = 10, 10
		}), Group: "features"},
		{ID: "10", Name: "dead lettering: x-message-ttl 0 -> DLX -> consumed queue, 16 B", Set: with(oneToOne(16), func(c *Config) {
			c.DeadLetter = true
		}), Group: "features"},
		{ID: "11", Name: "permission checks: user with regex permissions, 16 B autoack", Set: oneToOne(16), Needs: "mgmt", Group: "features"},
		{ID: "12", Name: "metrics on: /metrics scraped every 1 s, 16 B autoack", Set: oneToOne(16), Needs: "metrics", Group: "features"},
		{ID: "13", Name: "TLS: case 1 via amqp091-go over amqps (compare 1a)", Set: with(oneToOne(16), amqp091), Needs: "tls", Group: "features"},
		{ID: "13k", Name: "TLS: 1 KiB via amqp091-go over amqps (compare 2a)", Set: with(oneToOne(1024), amqp091), Needs: "tls", Group: "features"},
		{ID: "16", Name: "stream queue over 0-9-1: 1p/1c 16 B, read from first, prefetch 1000 ack/100", Set: func(c *Config, d time.Duration) {
			c.Stream, c.Size, c.Prefetch, c.MultiAck, c.Duration = true, 16, 1000, 100, d
		}, Group: "features"},
		{ID: "14", Name: "32p/32c over 32 queues 16 B autoack", Set: manyClients, Group: "clients"},
		{ID: "14r", Name: "32p/32c over 32 queues @100k/s 16 B autoack", Set: with(manyClients, func(c *Config) { c.Rate = 100000 }), Group: "clients"},
		{ID: "15", Name: "1000 connections x 100 msg/s, 32 queues/32c", Set: manyConns(1000), Group: "clients"},
		{ID: "15h", Name: "500 connections x 100 msg/s, 32 queues/32c", Set: manyConns(500), Group: "clients"},
	}
}

// DefaultCases are the ids `make bench` runs.
func DefaultCases() []string {
	var ids []string
	for _, c := range StandardCases() {
		ids = append(ids, c.ID)
	}
	return ids
}

// MatrixOptions are the parameters shared by every case.
type MatrixOptions struct {
	URI       string
	Client    string
	BrokerPID int
	Duration  time.Duration // per time-bounded case
	Pause     time.Duration // between cases, to let the broker settle
	Settle    time.Duration // before each case, wait up to this long for an idle broker and machine
	Cases     []string      // ids to run; empty = all
	Log       io.Writer     // progress and summaries (may be nil)
	Table     io.Writer     // markdown rows as cases finish
	JSON      io.Writer     // RESULT lines (may be nil)

	TLSURI     string // amqps:// URI of the same broker (cases needing "tls")
	MgmtURL    string // management API base, http://user:pass@host:port (cases needing "mgmt")
	MetricsURL string // Prometheus endpoint of the broker (cases needing "metrics")
}

// CaseConfig is the configuration of case cs under opts.
func CaseConfig(cs Case, opts MatrixOptions) Config {
	c := Defaults()
	c.Name, c.URI, c.Client, c.BrokerPID = cs.ID, opts.URI, opts.Client, opts.BrokerPID
	c.QueuePrefix = "perf-m" + cs.ID
	cs.Set(&c, opts.Duration)
	switch cs.Needs {
	case "tls":
		c.URI = opts.TLSURI
	case "metrics":
		c.ScrapeURL = opts.MetricsURL
	case "mgmt":
		if u, err := url.Parse(c.URI); err == nil {
			u.User = url.UserPassword(PermUser, PermPassword)
			c.URI = u.String()
		}
	}
	if c.Persistent && c.Confirm > 0 {
		c.SyncURL = opts.MetricsURL // messages per fdatasync
	}
	return c
}

// missing says what case cs needs that opts lacks ("" = nothing).
func missing(cs Case, opts MatrixOptions) string {
	switch {
	case cs.Needs == "tls" && opts.TLSURI == "":
		return "no TLS listener given (-tls-uri)"
	case cs.Needs == "mgmt" && opts.MgmtURL == "":
		return "no management API given (-mgmt) to create the user"
	case cs.Needs == "metrics" && opts.MetricsURL == "":
		return "no metrics endpoint given (-metrics)"
	}
	return ""
}

// RunMatrix runs the selected cases in order and returns their results.
func RunMatrix(opts MatrixOptions) ([]Result, error) {
	want := map[string]bool{}
	for _, id := range opts.Cases {
		want[strings.TrimSpace(id)] = true
	}
	fmt.Fprintln(opts.Table, TableHeader())
	var out []Result
	for _, cs := range StandardCases() {
		if len(want) > 0 && !want[cs.ID] {
			continue
		}
		if opts.Settle > 0 {
			msg := Settle(opts.BrokerPID, opts.Settle)
			if opts.Log != nil {
				fmt.Fprintf(opts.Log, "case %s: %s\n", cs.ID, msg)
			}
		}
		cfg := CaseConfig(cs, opts)
		cfg.Progress = opts.Log != nil
		var res *Result
		var err error
		if why := missing(cs, opts); why != "" {
			res = &Result{Client: cfg.Client, Summary: cfg.Summary(), Skipped: why}
		} else {
			var undo func()
			if cs.Needs == "mgmt" {
				undo, err = CreatePermUser(opts.MgmtURL)
			}
			if err == nil && cs.Search {
				res, err = SearchRate(cfg, opts.Log)
			} else if err == nil {
				res, err = Run(cfg, opts.Log)
			}
			if undo != nil {
				undo()
			}
			if err != nil {
				// A case that cannot start (refused connections, an
				// unsupported argument) is a row with its error, not the
				// end of the matrix.
				res = &Result{Client: cfg.Client, Summary: cfg.Summary(), Errors: []string{err.Error()}}
			}
		}
		res.Name = cs.ID + " " + cs.Name
		// The broker's RSS once the case's clients are gone (after the
		// pause between cases): memory that stays after the load.
		time.Sleep(opts.Pause)
		if opts.BrokerPID > 0 && res.Skipped == "" {
			if p, err := ReadProc(opts.BrokerPID); err == nil {
				res.RSSAfterMB = float64(p.RSSBytes) / (1 << 20)
			}
		}
		if opts.Log != nil {
			res.Print(opts.Log)
		}
		if opts.JSON != nil {
			fmt.Fprintln(opts.JSON, res.JSONLine())
		}
		fmt.Fprintln(opts.Table, TableRow(res))
		out = append(out, *res)
	}
	return out, nil
}

// TableHeader is the markdown header of the matrix table.
func TableHeader() string {
	return "| case | client | publish/s | deliver/s | p50 / p99 latency | broker CPU µs/msg | broker RSS MB peak / after | client CPU µs/msg | other load (cores) |\n" +
		"|---|---|---:|---:|---:|---:|---:|---:|---:|"
}

// TableRow is one markdown row. "other load" is the CPU that processes
// other than the broker and this tool used during the run, in cores: a
// figure taken on a busy machine is not comparable with a quiet one.
func TableRow(r *Result) string {
	if r.Skipped != "" {
		return fmt.Sprintf("| %s | %s | skipped: %s | | | | | | |", r.Name, r.Client, r.Skipped)
	}
	lat := "-"
	if r.LatencyN > 0 {
		lat = fmtUs(r.P50Us) + " / " + fmtUs(r.P99Us)
	}
	cpu, rss := "-", "-"
	if r.BrokerPID > 0 {
		cpu = fmt.Sprintf("%.2f", r.CPUUsPerMsg)
		rss = fmt.Sprintf("%.0f", r.RSSPeakMB)
		if r.RSSAfterMB > 0 {
			rss += fmt.Sprintf(" / %.0f", r.RSSAfterMB)
		}
	}
	errs := ""
	if len(r.Errors) > 0 {
		errs = fmt.Sprintf(" (%d errors)", len(r.Errors))
	}
	other := 0.0
	if r.Seconds > 0 {
		other = r.OtherCPU / r.Seconds
	}
	return fmt.Sprintf("| %s%s | %s | %s | %s | %s | %s | %s | %.2f | %.2f |", r.Name, errs, r.Client,
		fmtRate(r.PublishRate), fmtRate(r.DeliverRate), lat, cpu, rss, r.ClientUsMsg, other)
}

// fmtRate prints a rate with thousands separators.
func fmtRate(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	return b.String()
}
