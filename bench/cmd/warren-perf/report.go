package main

import (
	"flag"
	"os"
	"strings"

	"github.com/warrenmq/warren/bench/perf"
)

// reportMain writes PREFIX-results.csv, PREFIX-results.json and
// PREFIX-matrix.svg from matrix RESULT files given as LABEL=FILE, and
// prints the cross-check table (cases measured through several client
// paths) of the first two.
func reportMain(args []string) int {
	fs := flag.NewFlagSet("warren-perf report", flag.ContinueOnError)
	prefix := fs.String("out", "docs/bench", "output prefix: PREFIX-results.csv, PREFIX-results.json, PREFIX-matrix.svg")
	title := fs.String("title", "warren-perf matrix", "plot title")
	var meta []string
	fs.Func("meta", "KEY=VALUE recorded in the JSON (repeatable)", func(s string) error { meta = append(meta, s); return nil })
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		return fail(2, "usage: warren-perf report [-out PREFIX] [-title T] [-meta K=V] LABEL=FILE.jsonl ...")
	}
	var sets []perf.Labeled
	for _, a := range fs.Args() {
		label, file, ok := strings.Cut(a, "=")
		if !ok {
			return fail(2, "%q: want LABEL=FILE", a)
		}
		rs, err := perf.ReadResults(file)
		if err != nil {
			return fail(1, "%v", err)
		}
		sets = append(sets, perf.Labeled{Label: label, Results: rs})
	}
	m := map[string]string{}
	for _, kv := range meta {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	write := func(name string, f func(*os.File) error) bool {
		out, err := os.Create(name)
		if err == nil {
			err = f(out)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fail(1, "%s: %v", name, err)
			return false
		}
		return true
	}
	if !write(*prefix+"-results.csv", func(f *os.File) error { return perf.WriteCSV(f, sets) }) ||
		!write(*prefix+"-results.json", func(f *os.File) error { return perf.WriteJSON(f, m, sets) }) ||
		!write(*prefix+"-matrix.svg", func(f *os.File) error { return perf.WriteSVG(f, *title, sets) }) {
		return 1
	}
	if len(sets) >= 2 {
		perf.CrossCheck(os.Stdout, sets[0].Label, sets[0].Results, sets[1].Label, sets[1].Results)
	}
	return 0
}
