//go:build linux

// Command warren-fsynccost measures what making a small write durable
// costs on this machine's disk: wall time and CPU time (user + kernel, from
// the process's rusage, which is what a broker's CPU per message counts)
// per write, for each way of doing it, and with 1 or more writers syncing
// the same file at once (can a second fdatasync overlap the first?).
//
// Each writer writes -size bytes at its own offsets of one file and makes
// them durable, -n times. A mode is file/method; the files:
//
//	sparse    new and empty: every write extends it (the size changes)
//	falloc    fallocated first: unwritten extents, as Warren's segments are
//	zeroed    written with zeros and fsynced first: plain overwrites
//
// and the methods:
//
//	fdatasync  pwrite, then fdatasync (Warren's syncer)
//	rwfdsync   pwritev2 with RWF_DSYNC
//	odsync     opened O_DSYNC, pwrite
//	odirect    opened O_DIRECT|O_DSYNC, aligned pwrite
//
// Then it prints the bound this puts on a broker's CPU per persistent
// message at a given rate and p99 latency budget: a message cannot wait
// for more company than the budget leaves after the fdatasync itself.
//
//	warren-fsynccost -dir /var/lib/warren -n 2000 -parallel 1,2,4 -rate 5000 -p99 1ms
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	dir := flag.String("dir", os.TempDir(), "directory on the disk to measure (a temp file is made in it)")
	n := flag.Int("n", 1000, "durable writes per writer and mode")
	size := flag.Int("size", 4096, "bytes per write (a multiple of 4096 for odirect)")
	modes := flag.String("modes", strings.Join(allModes(), ","), "comma-separated modes")
	par := flag.String("parallel", "1,2", "comma-separated writer counts, each on its own thread, sharing one file")
	rate := flag.Float64("rate", 5000, "message rate for the CPU bound")
	budget := flag.Duration("p99", time.Millisecond, "p99 latency budget for the CPU bound")
	flag.Parse()

	var pars []int
	for _, s := range strings.Split(*par, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || k < 1 {
			log.Fatalf("bad -parallel %q", s)
		}
		pars = append(pars, k)
	}
	fmt.Printf("dir %s, %d B per write, %d writes per writer, load average %s\n", *dir, *size, *n, loadavg())
	fmt.Println("| mode | writers | durable writes/s | wall p50 | wall p99 | CPU µs per write (process) | of which kernel |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	var base *result
	for _, m := range strings.Split(*modes, ",") {
		m = strings.TrimSpace(m)
		if !slices.Contains(allModes(), m) {
			log.Fatalf("unknown mode %q (have %s)", m, strings.Join(allModes(), ", "))
		}
		for _, k := range pars {
			r, err := measure(*dir, m, k, *n, *size)
			if err != nil {
				log.Fatalf("%s ×%d: %v", m, k, err)
			}
			fmt.Printf("| %s | %d | %.0f | %s | %s | %.1f | %.1f |\n", m, k, r.perSec(), us(r.p50), us(r.p99), r.cpuPer(), r.sysPer())
			if m == "falloc/fdatasync" && k == 1 {
				base = &r
			}
		}
	}
	if base != nil {
		printBound(*base, *rate, *budget)
	}
}

// printBound turns the falloc/fdatasync figures (Warren's case) into the lowest CPU
// per message a broker can reach at rate with p99 within budget.
func printBound(r result, rate float64, budget time.Duration) {
	// A message waits for the round in progress (up to one fdatasync) and
	// then its own: a group can gather for at most budget − 2×p99 more.
	slack := budget - 2*r.p99
	group := 1.0
	if slack > 0 {
		group = max(1, rate*slack.Seconds())
	}
	// Without any extra wait a round gathers what arrived during the one
	// before it.
	natural := max(1, rate*r.p50.Seconds())
	group = max(group, natural)
	fmt.Printf("\nbound at %.0f msg/s, p99 ≤ %s (falloc/fdatasync, 1 writer): one fdatasync costs %.0f µs of CPU and %s wall (p50; p99 %s);\n",
		rate, budget, r.cpuPer(), us(r.p50), us(r.p99))
	fmt.Printf("a group can hold ~%.1f messages (%.1f arrive during one fdatasync; the budget leaves %s more to wait),\n", group, natural, us(max(slack, 0)))
	fmt.Printf("so a persistent message costs ≥ %.1f µs of broker CPU in fdatasync alone; 5 µs needs %.0f per fdatasync, %s of gathering at this rate\n",
		r.cpuPer()/group, r.cpuPer()/5, us(time.Duration(r.cpuPer()/5/rate*float64(time.Second))))
}

func us(d time.Duration) string {
	if d >= time.Millisecond {
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
