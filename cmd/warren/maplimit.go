package main

import (
	"log/slog"

	"github.com/warrenmq/warren/segment"
)

// applyMapBudget sets the broker-wide budget of segment and ack file
// mappings (segment.MapBudget) from warren.max_mappings, before any queue
// is opened; 0 keeps the default, half of vm.max_map_count. Past the
// kernel's limit every mmap fails, so queues with a backlog would stop
// delivering; under the budget, cold queues' mappings are let go instead.
func applyMapBudget(n int) int {
	b := segment.DefaultMapBudget()
	if n > 0 {
		b.SetLimit(n)
	}
	slog.Debug("mapping budget", "max_mappings", b.Limit())
	return b.Limit()
}
