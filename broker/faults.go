package broker

import (
	"log/slog"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// A full or failing disk makes the same storage error repeat for every
// message: one log line each buried the log (7,944 "ack failed" lines for
// 30,500 acks). Each kind of storage fault is counted in /metrics
// (warren_storage_errors_total{op="..."}) and logged at most once per
// faultLogInterval, with how many were left out since the last line.
type fault struct {
	op       string
	msg      string
	counter  *metrics.Counter
	mu       sync.Mutex
	last     time.Time
	withheld uint64
}

const faultLogInterval = 10 * time.Second

var (
	faultAppend = newFault("append", "store: cannot store message")
	faultAck    = newFault("ack", "store: cannot record ack")
	faultHint   = newFault("delivery_hint", "store: cannot record delivery hint")
)

func newFault(op, msg string) *fault {
	return &fault{op: op, msg: msg, counter: metrics.GetOrCreateCounter(`warren_storage_errors_total{op="` + op + `"}`)}
}

// report counts one occurrence and logs it unless the kind was logged less
// than faultLogInterval ago.
func (f *fault) report(queue string, err error) {
	f.counter.Inc()
	now := time.Now()
	f.mu.Lock()
	if !f.last.IsZero() && now.Sub(f.last) < faultLogInterval {
		f.withheld++
		f.mu.Unlock()
		return
	}
	withheld := f.withheld
	f.last, f.withheld = now, 0
	f.mu.Unlock()
	slog.Error(f.msg, "queue", queue, "err", err, "op", f.op, "not_logged_since_last", withheld)
}

// count is how many faults of this kind happened in this process.
func (f *fault) count() uint64 { return f.counter.Get() }
