package broker

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// A full or failing disk makes the same storage error repeat for every
// message: one log line each buried the log (7,944 "ack failed" lines for
// 30,500 acks). Each kind of storage fault is counted (StorageFaults, which
// mgmt serves as warren_storage_errors_total{op="..."}) and logged at most
// once per faultLogInterval, with how many were left out since the last
// line.
type fault struct {
	op       string
	msg      string
	n        atomic.Uint64
	mu       sync.Mutex
	last     time.Time
	withheld uint64
}

const faultLogInterval = 10 * time.Second

var (
	faultAppend = &fault{op: "append", msg: "store: cannot store message"}
	faultAck    = &fault{op: "ack", msg: "store: cannot record ack"}
	faultHint   = &fault{op: "delivery_hint", msg: "store: cannot record delivery hint"}
	faultRead   = &fault{op: "read", msg: "store: cannot read message (it stays ready; tried again shortly)"}
	faults      = []*fault{faultAppend, faultAck, faultHint, faultRead}
)

// StorageFaults returns how many storage operations of each kind ("append",
// "ack", "delivery_hint", "read") failed in this process.
func StorageFaults() map[string]uint64 {
	m := make(map[string]uint64, len(faults))
	for _, f := range faults {
		m[f.op] = f.n.Load()
	}
	return m
}

// report counts one occurrence and logs it unless the kind was logged less
// than faultLogInterval ago.
func (f *fault) report(queue string, err error) {
	f.n.Add(1)
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
func (f *fault) count() uint64 { return f.n.Load() }
