//go:build race

package broker

// raceEnabled reports whether the test binary runs under the race detector,
// which makes allocation counts and timings meaningless.
const raceEnabled = true
