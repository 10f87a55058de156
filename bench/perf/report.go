package perf

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Labeled is one broker's matrix results.
type Labeled struct {
	Label   string   `json:"broker"`
	Results []Result `json:"results"`
}

// CaseID is the id of a matrix result ("7a" of "7a latency @10k/s ...").
func CaseID(r *Result) string {
	id, _, _ := strings.Cut(r.Name, " ")
	return id
}

// caseTitle is the name without the id.
func caseTitle(r *Result) string {
	_, t, _ := strings.Cut(r.Name, " ")
	return t
}

// Throughput is the figure a throughput plot shows: messages delivered per
// second, or published per second when the case has no consumers.
func Throughput(r *Result) float64 {
	if r.Delivered > 0 {
		return r.DeliverRate
	}
	return r.PublishRate
}

var csvHeader = []string{"broker", "case", "name", "client", "seconds", "publish_rate", "confirm_rate", "deliver_rate",
	"latency_p50_us", "latency_p99_us", "latency_p999_us", "latency_max_us", "broker_cpu_us_per_msg", "broker_rss_peak_mb", "broker_rss_after_mb",
	"client_cpu_us_per_msg", "other_cpu_cores", "connections", "queue_max_over_min", "queue_published_max_over_min", "scrapes", "scrape_max_ms", "msgs_per_sync", "skipped", "errors"}

// WriteCSV writes one row per broker and case.
func WriteCSV(w io.Writer, sets []Labeled) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	for _, s := range sets {
		for i := range s.Results {
			r := &s.Results[i]
			other := 0.0
			if r.Seconds > 0 {
				other = r.OtherCPU / r.Seconds
			}
			row := []string{s.Label, CaseID(r), caseTitle(r), r.Client, f(r.Seconds, 2), f(r.PublishRate, 0), f(r.ConfirmRate, 0),
				f(r.DeliverRate, 0), f(r.P50Us, 1), f(r.P99Us, 1), f(r.P999Us, 1), f(r.MaxUs, 1), f(r.CPUUsPerMsg, 3),
				f(r.RSSPeakMB, 1), f(r.RSSAfterMB, 1), f(r.ClientUsMsg, 3), f(other, 2), strconv.Itoa(r.Connections), f(r.Fairness, 3), f(r.PubFairness, 3),
				strconv.Itoa(r.Scrapes), f(r.ScrapeMaxMs, 1), f(r.MsgsPerSync, 1), r.Skipped, strings.Join(r.Errors, "; ")}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the results of every broker as one JSON document.
func WriteJSON(w io.Writer, meta map[string]string, sets []Labeled) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(struct {
		Meta    map[string]string `json:"meta"`
		Brokers []Labeled         `json:"brokers"`
	}{meta, sets})
}

// crossChecks are the cases measured through more than one client path:
// the base case and its variants.
var crossChecks = [][]string{{"1", "1a", "1b", "1s"}, {"2", "2a", "2b", "2s"}}

// CrossCheck writes, for the cases measured through several client paths,
// each path's delivered rate on both brokers, and the ratio of a's path to
// b's best path: the comparison that cannot flatter a through a quirk of
// one client against b.
func CrossCheck(w io.Writer, aLabel string, a []Result, bLabel string, b []Result) {
	ai, bi := byID(a), byID(b)
	fmt.Fprintf(w, "| case | client path | %[1]s deliver/s | %[2]s deliver/s | %[2]s p50 latency | %[1]s ÷ %[2]s, same path | %[1]s ÷ best %[2]s path |\n", aLabel, bLabel)
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|")
	for _, ids := range crossChecks {
		best, bestID := 0.0, ""
		for _, id := range ids {
			if r, ok := bi[id]; ok && r.DeliverRate > best {
				best, bestID = r.DeliverRate, id
			}
		}
		for _, id := range ids {
			x, okA := ai[id]
			y, okB := bi[id]
			if !okA && !okB {
				continue
			}
			name := ""
			if okA {
				name = x.Name
			} else {
				name = y.Name
			}
			path := clientPath(x, y, okA)
			cell := func(ok bool, r Result) string {
				if !ok || r.Skipped != "" {
					return "-"
				}
				return fmtRate(r.DeliverRate)
			}
			same, vsBest := "-", "-"
			if okA && okB && y.DeliverRate > 0 {
				same = fmt.Sprintf("%.1f×", x.DeliverRate/y.DeliverRate)
			}
			if okA && best > 0 {
				vsBest = fmt.Sprintf("%.1f× (vs %s)", x.DeliverRate/best, bestID)
			}
			lat := "-"
			if okB && y.LatencyN > 0 {
				lat = fmtUs(y.P50Us)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", name, path, cell(okA, x), cell(okB, y), lat, same, vsBest)
		}
	}
}

func clientPath(x, y Result, okA bool) string {
	r := y
	if okA {
		r = x
	}
	if r.Search != "" {
		return "fast, paced: highest sustained rate"
	}
	if r.Client == "amqp091" {
		return "amqp091-go, one write per publish"
	}
	if strings.Contains(r.Summary, "batch-bytes=") {
		return "fast, 4 KiB writes"
	}
	return "fast, 256 KiB writes"
}

func byID(rs []Result) map[string]Result {
	m := map[string]Result{}
	for _, r := range rs {
		m[CaseID(&r)] = r
	}
	return m
}

// SVG plot: two panels, throughput and latency, one row per case, one bar
// per broker, logarithmic axes (the ratios span two orders of magnitude).

type svgBuf struct{ strings.Builder }

func (b *svgBuf) f(format string, a ...any) { fmt.Fprintf(&b.Builder, format, a...) }

func xmlEsc(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	return r.Replace(s)
}

// WriteSVG draws each case's throughput and p50/p99 latency, a against b.
func WriteSVG(w io.Writer, title string, sets []Labeled) error {
	if len(sets) == 0 {
		return fmt.Errorf("no results")
	}
	// Row order: the first set's cases, then any only the others have.
	var ids []string
	names := map[string]string{}
	idx := make([]map[string]Result, len(sets))
	for i, s := range sets {
		idx[i] = byID(s.Results)
		for _, r := range s.Results {
			id := CaseID(&r)
			if _, ok := names[id]; !ok {
				ids = append(ids, id)
				names[id] = r.Name
			}
		}
	}
	colors := []string{"#d95f02", "#1b9e77", "#7570b3", "#e7298a"}
	const (
		labelW = 330
		panelW = 360
		gap    = 40
		rowH   = 26
		top    = 70
	)
	width := labelW + 2*panelW + gap + 30
	height := top + rowH*len(ids) + 60
	var b svgBuf
	b.f(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	b.f(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	b.f(`<text x="10" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", xmlEsc(title))
	for i, s := range sets {
		x := 10 + i*140
		b.f(`<rect x="%d" y="30" width="12" height="12" fill="%s"/><text x="%d" y="40">%s</text>`+"\n", x, colors[i%len(colors)], x+16, xmlEsc(s.Label))
	}
	b.f(`<text x="%d" y="40" fill="#555">bar = p99, tick = p50 (latency panel); log scales</text>`+"\n", 10+len(sets)*140)

	// Axis ranges.
	tput := func(r Result) float64 { return Throughput(&r) }
	tmin, tmax := axisRange(ids, idx, tput)
	lmin, lmax := axisRange(ids, idx, func(r Result) float64 { return r.P99Us }, func(r Result) float64 { return r.P50Us })
	x0t := float64(labelW)
	x0l := float64(labelW + panelW + gap)
	scale := func(v, lo, hi, x0 float64) float64 {
		if v <= 0 {
			return x0
		}
		return x0 + float64(panelW)*(math.Log10(v)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))
	}
	panel := func(x0 float64, lo, hi float64, title string, tick func(float64) string) {
		b.f(`<text x="%.0f" y="%d" font-weight="bold">%s</text>`+"\n", x0, top-12, xmlEsc(title))
		for d := lo; d <= hi*1.0001; d *= 10 {
			x := scale(d, lo, hi, x0)
			b.f(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x, top-4, x, top+rowH*len(ids))
			b.f(`<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>`+"\n", x, top+rowH*len(ids)+14, tick(d))
		}
	}
	panel(x0t, tmin, tmax, "throughput, msg/s (delivered; published if no consumer)", fmtShortRate)
	panel(x0l, lmin, lmax, "latency, publish to delivery", decadeUs)
	barH := float64(rowH-6) / float64(len(sets))
	for row, id := range ids {
		y := float64(top + row*rowH)
		if row%2 == 1 {
			b.f(`<rect x="5" y="%.1f" width="%d" height="%d" fill="#f6f6f6"/>`+"\n", y, width-10, rowH)
		}
		label := names[id]
		if len(label) > 58 {
			label = label[:57] + "…"
		}
		b.f(`<text x="10" y="%.1f">%s</text>`+"\n", y+rowH/2+4, xmlEsc(label))
		for i := range sets {
			r, ok := idx[i][id]
			by := y + 3 + float64(i)*barH
			c := colors[i%len(colors)]
			if !ok || r.Skipped != "" || (len(r.Errors) > 0 && tput(r) == 0) {
				why := "not run"
				if ok && r.Skipped != "" {
					why = "skipped"
				} else if ok {
					why = "failed"
				}
				b.f(`<text x="%.1f" y="%.1f" fill="%s" font-size="9">%s</text>`+"\n", x0t+2, by+barH-1, c, why)
				continue
			}
			if v := tput(r); v > 0 {
				b.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s msg/s</title></rect>`+"\n",
					x0t, by, scale(v, tmin, tmax, x0t)-x0t, barH-1, c, xmlEsc(sets[i].Label), id, fmtRate(v))
				b.f(`<text x="%.1f" y="%.1f" font-size="8">%s</text>`+"\n", scale(v, tmin, tmax, x0t)+2, by+barH-2, fmtShortRate(v))
			}
			if r.LatencyN > 0 && r.P99Us > 0 {
				b.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.75"><title>%s %s: p50 %s p99 %s</title></rect>`+"\n",
					x0l, by, scale(r.P99Us, lmin, lmax, x0l)-x0l, barH-1, c, xmlEsc(sets[i].Label), id, fmtUs(r.P50Us), fmtUs(r.P99Us))
				px := scale(r.P50Us, lmin, lmax, x0l)
				b.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black" stroke-width="2"/>`+"\n", px, by, px, by+barH-1)
				b.f(`<text x="%.1f" y="%.1f" font-size="8">%s</text>`+"\n", scale(r.P99Us, lmin, lmax, x0l)+2, by+barH-2, fmtUs(r.P99Us))
			}
		}
	}
	b.f("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// axisRange is a decade-aligned [lo, hi] covering every positive value.
func axisRange(ids []string, idx []map[string]Result, vals ...func(Result) float64) (float64, float64) {
	lo, hi := math.Inf(1), 0.0
	for _, m := range idx {
		for _, id := range ids {
			r, ok := m[id]
			if !ok || r.Skipped != "" {
				continue
			}
			for _, v := range vals {
				if x := v(r); x > 0 {
					lo, hi = math.Min(lo, x), math.Max(hi, x)
				}
			}
		}
	}
	if hi == 0 {
		return 1, 10
	}
	lo = math.Pow(10, math.Floor(math.Log10(lo)))
	hi = math.Pow(10, math.Ceil(math.Log10(hi)))
	if hi <= lo {
		hi = lo * 10
	}
	return lo, hi
}

// decadeUs labels a power of ten of microseconds: 10µs, 1ms, 10s.
func decadeUs(us float64) string {
	switch {
	case us >= 1e6:
		return fmt.Sprintf("%gs", us/1e6)
	case us >= 1e3:
		return fmt.Sprintf("%gms", us/1e3)
	}
	return fmt.Sprintf("%gµs", us)
}

func fmtShortRate(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.0fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
