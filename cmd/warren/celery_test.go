//go:build linux

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// celeryScript runs Celery 5 against a broker URL, unchanged against
// RabbitMQ (see its docstring).
const celeryScript = "testdata/celery_check.py"

func needCelery(t *testing.T) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import celery, kombu").Run(); err != nil {
		t.Skip("/usr/bin/python3 has no celery (apt-get install python3-celery; .ci/run does)")
	}
}

// TestCelery: Celery 5 with its default settings (which declare queues
// with x-expires and use reply queues) against Warren: a worker and a
// client run tasks, group, chain, retries with countdown and countdown,
// with the rpc:// result backend, and a chord with the file system backend
// (rpc:// does not support chords; the script checks Celery refuses it).
func TestCelery(t *testing.T) {
	needCelery(t)
	proc := startWarren(t, filepath.Join(t.TempDir(), "data"), procOptions{})
	script, err := filepath.Abs(celeryScript)
	if err != nil {
		t.Fatal(err)
	}
	url := "amqp://guest:guest@" + proc.addr + "//"
	results := t.TempDir()
	for _, kind := range []string{"rpc", "file"} {
		startCeleryWorker(t, script, url, kind, results)
	}
	for _, kind := range []string{"rpc", "file"} {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		out, err := exec.CommandContext(ctx, "/usr/bin/python3", script, url, "client", kind, results).CombinedOutput()
		cancel()
		if err != nil || !strings.Contains(string(out), "ok celery-"+kind) {
			t.Fatalf("celery client (%s backend): %v\n%s\nwarren log:\n%s", kind, err, out, tail(proc.log(), 3000))
		}
	}
	proc.checkLog(t, "celery")
}

// startCeleryWorker starts a worker for the kind of result backend; it is
// stopped at cleanup (SIGTERM, then SIGKILL), its log shown if the test
// failed.
func startCeleryWorker(t *testing.T, script, url, kind, results string) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "worker-"+kind+".log")
	lf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", script, url, "worker", kind, results)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); lf.Close(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("celery worker (%s) log:\n%s", kind, tail(string(b), 3000))
		}
	})
}
