//go:build race

package netio_test

// raceEnabled reports whether the test binary runs under the race detector,
// which makes allocation counts meaningless.
const raceEnabled = true
