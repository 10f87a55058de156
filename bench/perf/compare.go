package perf

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// ReadResults reads every RESULT line of a file (other lines are skipped).
func ReadResults(path string) ([]Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Result
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "RESULT ") {
			continue
		}
		r, err := ParseResult(line)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// Compare writes a markdown table of a against b, matched by case name, with
// ratios a/b (throughput: >1 means a is faster; latency, CPU, RSS: <1 means
// a uses less).
func Compare(w io.Writer, aLabel string, a []Result, bLabel string, b []Result) {
	byName := map[string]Result{}
	for _, r := range b {
		byName[r.Name] = r
	}
	fmt.Fprintf(w, "| case | publish/s %[1]s / %[2]s (x) | deliver/s %[1]s / %[2]s (x) | p50 %[1]s / %[2]s (x) | p99 %[1]s / %[2]s (x) | CPU µs/msg %[1]s / %[2]s (x) | RSS MB %[1]s / %[2]s (x) |\n", aLabel, bLabel)
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, x := range a {
		y, ok := byName[x.Name]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", x.Name,
			pair(fmtRate(x.PublishRate), fmtRate(y.PublishRate), x.PublishRate, y.PublishRate),
			pair(fmtRate(x.DeliverRate), fmtRate(y.DeliverRate), x.DeliverRate, y.DeliverRate),
			pair(fmtUs(x.P50Us), fmtUs(y.P50Us), x.P50Us, y.P50Us),
			pair(fmtUs(x.P99Us), fmtUs(y.P99Us), x.P99Us, y.P99Us),
			pair(fmt.Sprintf("%.2f", x.CPUUsPerMsg), fmt.Sprintf("%.2f", y.CPUUsPerMsg), x.CPUUsPerMsg, y.CPUUsPerMsg),
			pair(fmt.Sprintf("%.0f", x.RSSPeakMB), fmt.Sprintf("%.0f", y.RSSPeakMB), x.RSSPeakMB, y.RSSPeakMB))
	}
}

func pair(a, b string, x, y float64) string {
	if x == 0 && y == 0 {
		return "-"
	}
	if y == 0 {
		return a + " / " + b
	}
	return fmt.Sprintf("%s / %s (%.2f)", a, b, x/y)
}
