//go:build race

package router

// raceEnabled: under the race detector sync.Pool drops a share of Puts on
// purpose, so pooled scratch gets reallocated and allocation counts mean
// nothing.
const raceEnabled = true
