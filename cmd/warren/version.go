package main

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// version describes this binary from what the Go toolchain stamped into it:
// the module version (a tag under `go install module@version`, "(devel)"
// for a build from a checkout), the commit and whether the tree had
// uncommitted changes, and the Go version and platform.
func version() string {
	var b strings.Builder
	b.WriteString("warren ")
	info, ok := debug.ReadBuildInfo()
	if !ok {
		b.WriteString("(unknown)")
	} else {
		b.WriteString(info.Main.Version)
		var rev, when, dirty string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if rev != "" {
			b.WriteString(" commit " + rev[:min(12, len(rev))] + dirty)
			if when != "" {
				b.WriteString(" " + when)
			}
		}
	}
	b.WriteString(" " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH)
	return b.String()
}
