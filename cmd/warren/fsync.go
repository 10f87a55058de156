package main

import (
	"log/slog"

	"github.com/warrenmq/warren/segment"
)

// syncPolicy maps warren.fsync / -fsync to the segment syncer's policy,
// and says so once at start when confirms no longer wait for the disk.
func syncPolicy(noFsync bool) segment.SyncPolicy {
	if !noFsync {
		return segment.SyncData
	}
	slog.Warn("warren.fsync = false: persistent publishes are confirmed once written to the kernel; they survive a crash of warren, not of the machine")
	return segment.SyncWrite
}
