package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warrenmq/warren/cmd/warren/config"
)

// A relative log.file lives in log.dir; each destination has its level;
// log.console = false leaves the file alone.
func TestSetupLoggingDestinations(t *testing.T) {
	defer slog.SetDefault(slog.Default())
	dir := t.TempDir()
	var console bytes.Buffer
	c := config.Default().Log
	c.Dir, c.File, c.FileLevel, c.ConsoleLevel = dir, "w.log", "debug", "warn"
	lf, err := setupLogging(c, &console)
	if err != nil {
		t.Fatal(err)
	}
	slog.Debug("debug line")
	slog.Warn("warn line")
	_ = lf.Close()
	file, _ := os.ReadFile(filepath.Join(dir, "w.log"))
	if !strings.Contains(string(file), "debug line") || !strings.Contains(string(file), "warn line") {
		t.Errorf("file at debug: %q", file)
	}
	if strings.Contains(console.String(), "debug line") || !strings.Contains(console.String(), "warn line") {
		t.Errorf("console at warn: %q", console.String())
	}

	console.Reset()
	c.Console = false
	c.File = filepath.Join(dir, "only.log")
	lf, err = setupLogging(c, &console)
	if err != nil {
		t.Fatal(err)
	}
	slog.Info("to the file only")
	_ = lf.Close()
	if console.Len() != 0 {
		t.Errorf("log.console = false wrote %q", console.String())
	}
	if b, _ := os.ReadFile(c.File); !strings.Contains(string(b), "to the file only") {
		t.Errorf("absolute log.file: %q", b)
	}

	c.File = filepath.Join(dir, "no-such-dir", "x.log")
	if _, err := setupLogging(c, &console); err == nil || !strings.HasPrefix(err.Error(), "log.file: ") {
		t.Errorf("unopenable log.file: %v", err)
	}
}
