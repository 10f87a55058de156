// Package gnetenv clears gnet's logging variables from the environment
// before gnet reads them.
//
// gnet's logging package reads GNET_LOGGING_LEVEL and GNET_LOGGING_FILE in
// its init and panics on a value it cannot use (GNET_LOGGING_LEVEL=error: it
// wants zap's number). Warren gives gnet a logger of its own that writes
// through slog at -log-level, so neither variable has any effect except that
// panic. This package imports only os, so by the spec's initialization
// order (the first package in import-path order whose imports are all
// initialized goes next) it is initialized before gnet's logging package,
// which also waits for zap. netio imports it for that side effect;
// TestGnetEnvIgnored in cmd/warren checks it on the real binary.
package gnetenv

import "os"

// Ignored lists the variables removed, as NAME=value, for netio to log
// once slog is set up.
var Ignored []string

func init() {
	for _, name := range []string{"GNET_LOGGING_LEVEL", "GNET_LOGGING_FILE"} {
		if v, ok := os.LookupEnv(name); ok {
			Ignored = append(Ignored, name+"="+v)
			_ = os.Unsetenv(name)
		}
	}
}
