package perf

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Case is one row of the standard matrix.
type Case struct {
	ID   string
	Name string
	Set  func(c *Config, d time.Duration) // shapes the run from Defaults; d is the case duration
}

// StandardCases is the benchmark matrix run against every broker.
func StandardCases() []Case {
	oneToOne := func(size int) func(*Config, time.Duration) {
		return func(c *Config, d time.Duration) {
			c.Size, c.AutoAck, c.Duration = size, true, d
		}
	}
	return []Case{
		{"1", "1p/1c 16 B transient autoack", oneToOne(16)},
		{"2", "1p/1c 1 KiB transient autoack", oneToOne(1024)},
		{"3", "1p/1c 1 KiB persistent durable confirm 256 ack/100", func(c *Config, d time.Duration) {
			c.Size, c.Persistent, c.Durable, c.Confirm, c.Prefetch, c.MultiAck, c.Duration = 1024, true, true, 256, 1000, 100, d
		}},
		{"4", "publish-only 1M x 100 B persistent durable", func(c *Config, d time.Duration) {
			c.Consumers, c.Size, c.Persistent, c.Durable, c.PMessages = 0, 100, true, true, 1_000_000
			c.Duration = d + d/2 // a bound, the run stops at 1M
		}},
		{"5", "fanout 1p -> 10 queues/10c 16 B autoack", func(c *Config, d time.Duration) {
			c.Type, c.Queues, c.Consumers, c.Size, c.AutoAck, c.Duration = "fanout", 10, 10, 16, true, d
		}},
		{"6", "topic 1000 bindings over 10 queues/10c 16 B autoack", func(c *Config, d time.Duration) {
			c.Type, c.Bindings, c.Queues, c.Consumers, c.Size, c.AutoAck, c.Duration = "topic", 1000, 10, 10, 16, true, d
		}},
		{"7a", "latency @10k/s 16 B transient autoack", func(c *Config, d time.Duration) {
			c.Rate, c.Size, c.AutoAck, c.Duration = 10000, 16, true, d
		}},
		{"7b", "latency @10k/s 16 B persistent durable confirm 256 ack/100", func(c *Config, d time.Duration) {
			c.Rate, c.Size, c.Persistent, c.Durable, c.Confirm, c.Prefetch, c.MultiAck, c.Duration = 10000, 16, true, true, 256, 1000, 100, d
		}},
	}
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
}

// CaseConfig is the configuration of case cs under opts.
func CaseConfig(cs Case, opts MatrixOptions) Config {
	c := Defaults()
	c.Name, c.URI, c.Client, c.BrokerPID = cs.ID, opts.URI, opts.Client, opts.BrokerPID
	c.QueuePrefix = "perf-m" + cs.ID
	cs.Set(&c, opts.Duration)
	return c
}

// RunMatrix runs the selected cases in order and returns their results.
func RunMatrix(opts MatrixOptions) ([]Result, error) {
	want := map[string]bool{}
	for _, id := range opts.Cases {
		want[strings.TrimSpace(id)] = true
	}
	fmt.Fprintln(opts.Table, TableHeader())
	var out []Result
	first := true
	for _, cs := range StandardCases() {
		if len(want) > 0 && !want[cs.ID] {
			continue
		}
		if !first {
			time.Sleep(opts.Pause)
		}
		first = false
		if opts.Settle > 0 {
			msg := Settle(opts.BrokerPID, opts.Settle)
			if opts.Log != nil {
				fmt.Fprintf(opts.Log, "case %s: %s\n", cs.ID, msg)
			}
		}
		cfg := CaseConfig(cs, opts)
		cfg.Progress = opts.Log != nil
		res, err := Run(cfg, opts.Log)
		if err != nil {
			return out, fmt.Errorf("case %s: %w", cs.ID, err)
		}
		res.Name = cs.ID + " " + cs.Name
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
	return "| case | client | publish/s | deliver/s | p50 / p99 latency | broker CPU µs/msg | broker RSS MB | client CPU µs/msg | other load (cores) |\n" +
		"|---|---|---:|---:|---:|---:|---:|---:|---:|"
}

// TableRow is one markdown row. "other load" is the CPU that processes
// other than the broker and this tool used during the run, in cores: a
// figure taken on a busy machine is not comparable with a quiet one.
func TableRow(r *Result) string {
	lat := "-"
	if r.LatencyN > 0 {
		lat = fmtUs(r.P50Us) + " / " + fmtUs(r.P99Us)
	}
	cpu, rss := "-", "-"
	if r.BrokerPID > 0 {
		cpu = fmt.Sprintf("%.2f", r.CPUUsPerMsg)
		rss = fmt.Sprintf("%.0f", r.RSSPeakMB)
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
