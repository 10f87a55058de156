package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/warrenmq/warren/bench/perf"
)

// announceTarget prints which broker the run measures before it starts,
// saying so when -uri was left at its default.
func announceTarget(fs *flag.FlagSet, uri string) error {
	what, err := perf.DescribeTarget(uri)
	if err != nil {
		return err
	}
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "uri" })
	if !set {
		what += " (the default -uri)"
	}
	fmt.Fprintln(os.Stderr, "warren-perf: target", what)
	return nil
}
