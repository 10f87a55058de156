package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/warrenmq/warren/bench/perf"
)

func matrixMain(args []string) int {
	var o perf.MatrixOptions
	fs := flag.NewFlagSet("warren-perf matrix", flag.ContinueOnError)
	fs.StringVar(&o.URI, "uri", "amqp://guest:guest@127.0.0.1:5672/", "broker URI (loopback)")
	fs.StringVar(&o.Client, "client", "fast", "client: fast or amqp091")
	fs.IntVar(&o.BrokerPID, "broker-pid", 0, "pid of the local broker for CPU and RSS columns")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "duration of each time-bounded case")
	fs.DurationVar(&o.Pause, "pause", 2*time.Second, "pause between cases")
	fs.DurationVar(&o.Settle, "settle", 30*time.Second, "before each case wait up to this long for an idle broker and machine (0 = no wait)")
	cases := fs.String("cases", "", "comma-separated case ids (default all; see -list)")
	fs.StringVar(&o.TLSURI, "tls-uri", "", "amqps:// URI of the same broker, for the TLS cases")
	tlsCA := fs.String("tls-ca", "", "PEM CA that signed the broker's certificate (with -tls-uri)")
	fs.StringVar(&o.MgmtURL, "mgmt", "", "management API http://user:pass@host:port, to create the permission case's user")
	fs.StringVar(&o.MetricsURL, "metrics", "", "Prometheus URL the metrics case scrapes every second")
	out := fs.String("out", "", "also write RESULT lines to this file")
	quiet := fs.Bool("quiet", false, "no progress or summaries on stderr")
	list := fs.Bool("list", false, "list the cases and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *list {
		for _, c := range perf.StandardCases() {
			cfg := perf.CaseConfig(c, o)
			os.Stdout.WriteString(c.ID + "\t" + c.Name + "\n\t" + cfg.Summary() + "\n")
		}
		return 0
	}
	if *tlsCA != "" {
		if err := perf.TrustCA(*tlsCA); err != nil {
			return fail(2, "-tls-ca: %v", err)
		}
	}
	if *cases != "" {
		o.Cases = strings.Split(*cases, ",")
	}
	o.Table = os.Stdout
	if !*quiet {
		o.Log = os.Stderr
	}
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return fail(1, "%v", err)
		}
		defer f.Close()
		o.JSON = f
	}
	if err := announceTarget(fs, o.URI); err != nil {
		return fail(1, "%v", err)
	}
	res, err := perf.RunMatrix(o)
	if err != nil {
		return fail(1, "%v", err)
	}
	code := 0
	for _, r := range res {
		if len(r.Errors) > 0 {
			fmt.Fprintf(os.Stderr, "warren-perf matrix: case %s: %s\n", r.Name, r.Errors[0])
			code = 1
		}
	}
	return code
}

func compareMain(args []string) int {
	fs := flag.NewFlagSet("warren-perf compare", flag.ContinueOnError)
	aLabel := fs.String("a", "A", "label of the first file")
	bLabel := fs.String("b", "B", "label of the second file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 2 {
		return fail(2, "usage: warren-perf compare [-a LABEL] [-b LABEL] A.jsonl B.jsonl")
	}
	a, err := perf.ReadResults(fs.Arg(0))
	if err != nil {
		return fail(1, "%v", err)
	}
	b, err := perf.ReadResults(fs.Arg(1))
	if err != nil {
		return fail(1, "%v", err)
	}
	var w io.Writer = os.Stdout
	perf.Compare(w, *aLabel, a, *bLabel, b)
	return 0
}
