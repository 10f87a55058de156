//go:build linux

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitFor polls read until it holds want.
func waitFor(t *testing.T, what, want string, read func() string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := read()
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %q after 30 s; got:\n%s", what, want, tail(s, 4000))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readFile(path string) func() string {
	return func() string { b, _ := os.ReadFile(path); return string(b) }
}

// jsonLines decodes every line of s as a JSON object, failing on any other.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q (%v)", l, err)
		}
		out = append(out, m)
	}
	return out
}

// log.file with its own level and formatter, the console with another;
// SIGHUP reopens the file after logrotate moved it.
func TestLogFileLevelsAndReopen(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "warren.log")
	conf := writeConf(t, "log.file = "+logPath+"\nlog.file.level = debug\nlog.file.formatter = json\nlog.console.level = error\n")
	p := startWarren(t, dir+"/data", procOptions{args: []string{"-config", conf}, noWait: true})
	fileLog := waitFor(t, "log.file", `"msg":"warren started"`, readFile(logPath))
	lines := jsonLines(t, fileLog)
	if lines[0]["level"] == nil || lines[0]["time"] == nil {
		t.Fatalf("JSON log line without level or time: %v", lines[0])
	}
	if console := p.log(); strings.Contains(console, "warren started") {
		t.Fatalf("console at level error shows info lines:\n%s", console)
	}

	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	if _, exited := p.signal(syscall.SIGHUP, 0); exited {
		t.Fatal("warren exited on SIGHUP")
	}
	reopened := waitFor(t, "reopened log.file", "SIGHUP: log file reopened", readFile(logPath))
	jsonLines(t, reopened)
	if strings.Contains(readFile(logPath+".1")(), "reopened") {
		t.Fatal("the reopen was logged into the rotated file")
	}
	if code, exited := p.signal(syscall.SIGTERM, 30*time.Second); !exited || code != 0 {
		t.Fatalf("SIGTERM: exited=%v code=%d", exited, code)
	}
	waitFor(t, "stop line in the new file", `"msg":"stopped"`, readFile(logPath))
}

func TestLogConsoleJSON(t *testing.T) {
	conf := writeConf(t, "log.console.formatter = json\n")
	p := startWarren(t, t.TempDir()+"/data", procOptions{args: []string{"-config", conf}})
	var started bool
	for _, m := range jsonLines(t, p.log()) {
		if m["msg"] == "warren started" && m["amqp"] == p.addr {
			started = true
		}
	}
	if !started {
		t.Fatalf("no JSON start line with the address:\n%s", p.log())
	}
}
