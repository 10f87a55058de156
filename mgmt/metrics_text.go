package mgmt

import (
	"math"
	"strconv"
	"strings"

	"github.com/warrenmq/warren/broker"
)

// promText writes the Prometheus text format (0.0.4) into one buffer, so a
// scrape is one pass over a snapshot with no metric objects per queue.
type promText struct {
	b []byte
}

// family starts a metric family with its TYPE and HELP lines, in
// RabbitMQ's order (TYPE first).
func (w *promText) family(name, typ, help string) {
	w.b = append(w.b, "# TYPE "...)
	w.b = append(w.b, name...)
	w.b = append(w.b, ' ')
	w.b = append(w.b, typ...)
	w.b = append(w.b, "\n# HELP "...)
	w.b = append(w.b, name...)
	w.b = append(w.b, ' ')
	w.b = append(w.b, help...)
	w.b = append(w.b, '\n')
}

// sample writes one line; labels is either empty or already formatted
// (`{a="b"}`), as label pairs built by labels().
func (w *promText) sample(name, labels string, v float64) {
	w.b = append(w.b, name...)
	w.b = append(w.b, labels...)
	w.b = append(w.b, ' ')
	w.b = appendFloat(w.b, v)
	w.b = append(w.b, '\n')
}

func (w *promText) uint(name, labels string, v uint64) {
	w.b = append(w.b, name...)
	w.b = append(w.b, labels...)
	w.b = append(w.b, ' ')
	w.b = strconv.AppendUint(w.b, v, 10)
	w.b = append(w.b, '\n')
}

func (w *promText) int(name, labels string, v int64) {
	w.b = append(w.b, name...)
	w.b = append(w.b, labels...)
	w.b = append(w.b, ' ')
	w.b = strconv.AppendInt(w.b, v, 10)
	w.b = append(w.b, '\n')
}

// gauge and counter write a family with one unlabelled sample.
func (w *promText) gauge(name, help string, v float64) {
	w.family(name, "gauge", help)
	w.sample(name, "", v)
}

func (w *promText) counter(name, help string, v uint64) {
	w.family(name, "counter", help)
	w.uint(name, "", v)
}

func appendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// labels formats name/value pairs as {a="x",b="y"}, escaping values as the
// text format requires.
func labels(kv ...string) string {
	var sb strings.Builder
	sb.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(kv[i])
		sb.WriteString(`="`)
		writeLabelValue(&sb, kv[i+1])
		sb.WriteByte('"')
	}
	sb.WriteByte('}')
	return sb.String()
}

func writeLabelValue(sb *strings.Builder, v string) {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			sb.WriteString(`\\`)
		case '"':
			sb.WriteString(`\"`)
		case '\n':
			sb.WriteString(`\n`)
		default:
			sb.WriteByte(c)
		}
	}
}

// appendQueueLabels writes {vhost="v",queue="q"} without building a string,
// for the per-queue lines of a large scrape.
func appendQueueLabels(b []byte, vhost, queue string) []byte {
	b = append(b, `{vhost="`...)
	b = appendEscaped(b, vhost)
	b = append(b, `",queue="`...)
	b = appendEscaped(b, queue)
	return append(b, `"}`...)
}

func appendEscaped(b []byte, v string) []byte {
	if !strings.ContainsAny(v, "\\\"\n") {
		return append(b, v...)
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

func appendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// histogram writes a Prometheus histogram family (_bucket with le, _sum,
// _count) from h's snapshot.
func (w *promText) histogram(name, help string, h *broker.Histogram) {
	w.family(name, "histogram", help)
	for i, c := range h.Cumulative {
		le := "+Inf"
		if i < len(h.Bounds) {
			le = strconv.FormatFloat(h.Bounds[i], 'g', -1, 64)
		}
		w.uint(name+"_bucket", `{le="`+le+`"}`, c)
	}
	w.sample(name+"_sum", "", h.Sum)
	w.uint(name+"_count", "", h.Count)
}
