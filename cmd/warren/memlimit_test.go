package main

import (
	"io"
	"math"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/warrenmq/warren/cmd/warren/config"
)

func TestGoMemoryLimitFromConfigAndFlag(t *testing.T) {
	d := config.Default()
	if got := goMemoryLimit(d.GoMemoryLimit, 1000); got != 500 {
		t.Errorf("default: %d, want half the alarm limit (500)", got)
	}
	l, err := config.Read("t.conf", strings.NewReader("warren.go_memory_limit.absolute = 64MiB\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := goMemoryLimit(l.Config.GoMemoryLimit, 1000); got != 64<<20 {
		t.Errorf("absolute: %d", got)
	}
	l, err = config.Read("t.conf", strings.NewReader("warren.go_memory_limit.relative = 0.25\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := goMemoryLimit(l.Config.GoMemoryLimit, 1000); got != 250 {
		t.Errorf("relative: %d", got)
	}
	if _, err := config.Read("t.conf", strings.NewReader("warren.go_memory_limit.absolute = lots\n")); err == nil {
		t.Error("a bad size was accepted")
	}

	f, err := parseFlags([]string{"-go-memory-limit", "48MiB"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.settings()
	if err != nil {
		t.Fatal(err)
	}
	if got := goMemoryLimit(s.Config.GoMemoryLimit, 1000); got != 48<<20 {
		t.Errorf("flag: %d", got)
	}
	if f, err = parseFlags([]string{"-go-memory-limit", "x"}, io.Discard); err == nil {
		if _, err = f.settings(); err == nil {
			t.Error("-go-memory-limit x accepted")
		}
	}

	t.Setenv("GOMEMLIMIT", "")
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	if n := applyGoMemoryLimit(config.Watermark{Absolute: 96 << 20}, 0); n != 96<<20 || debug.SetMemoryLimit(-1) != 96<<20 {
		t.Errorf("applied %d, runtime has %d", n, debug.SetMemoryLimit(-1))
	}
	if n := applyGoMemoryLimit(config.Watermark{}, 1<<30); n != 0 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Errorf("none: applied %d, runtime has %d", n, debug.SetMemoryLimit(-1))
	}
}
