package main

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"

	"github.com/warrenmq/warren/cmd/warren/config"
)

// goMemoryLimit is the Go runtime's soft memory limit for w: its absolute
// bytes, else its fraction of the memory alarm's limit; 0 means none.
func goMemoryLimit(w config.Watermark, alarmLimit int64) int64 {
	if w.Absolute > 0 {
		return w.Absolute
	}
	return int64(w.Relative * float64(alarmLimit))
}

// applyGoMemoryLimit sets the Go heap's soft limit (debug.SetMemoryLimit)
// from warren.go_memory_limit.* / -go-memory-limit. Near the limit the
// collector runs more often, so garbage (a burst's dropped output buffers,
// gnet's pooled copies) is freed before it shows as RSS; live memory is
// never refused, and the memory alarm still blocks publishers at its own
// limit. GOMEMLIMIT in the environment, the runtime's own setting, wins.
func applyGoMemoryLimit(w config.Watermark, alarmLimit int64) int64 {
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		n := debug.SetMemoryLimit(-1)
		slog.Info("Go memory limit from GOMEMLIMIT", "GOMEMLIMIT", v, "bytes", n)
		return n
	}
	n := goMemoryLimit(w, alarmLimit)
	if n <= 0 {
		debug.SetMemoryLimit(math.MaxInt64)
		return 0
	}
	debug.SetMemoryLimit(n)
	return n
}
