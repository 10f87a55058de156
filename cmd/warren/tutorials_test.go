//go:build linux

package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tutorialsScript holds the RabbitMQ tutorials' scenarios with pika; it
// runs unchanged against RabbitMQ (`python3 testdata/tutorials.py URL NAME`).
const tutorialsScript = "testdata/tutorials.py"

func needPika(t *testing.T) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import pika").Run(); err != nil {
		t.Skip("/usr/bin/python3 has no pika (apt-get install python3-pika; .ci/run does)")
	}
}

// runTutorial runs one scenario against proc and fails the test with the
// script's verdict and the broker's log when it does not pass.
func runTutorial(t *testing.T, proc *warrenProc, name string, extra ...string) {
	t.Helper()
	script, err := filepath.Abs(tutorialsScript)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{script, "amqp://guest:guest@" + proc.addr + "/%2F", name}, extra...)
	out, err := runScript(t, 2*time.Minute, "/usr/bin/python3", args...)
	if err != nil || strings.TrimSpace(out) != "ok "+name {
		t.Fatalf("pika %s: %v\n%s\nwarren log:\n%s", name, err, out, tail(proc.log(), 3000))
	}
}

// TestPikaTutorials runs the RabbitMQ tutorials with pika, the Python client
// most newcomers start with: hello world, work queues (prefetch, acks,
// redelivery), publish/subscribe, routing, topics, RPC (with a callback
// queue and with direct reply-to), publisher confirms.
func TestPikaTutorials(t *testing.T) {
	needPika(t)
	proc := startWarren(t, filepath.Join(t.TempDir(), "data"), procOptions{})
	for _, name := range []string{"hello_world", "work_queues", "publish_subscribe", "routing", "topics", "rpc", "rpc_direct_reply_to", "publisher_confirms"} {
		t.Run(name, func(t *testing.T) { runTutorial(t, proc, name) })
	}
	proc.checkLog(t, "pika tutorials")
}

// TestPikaDurableAcrossRestart: durable exchanges, queues, bindings and
// persistent messages survive a clean restart and a kill -9; transient
// messages and non-durable queues do not.
func TestPikaDurableAcrossRestart(t *testing.T) {
	needPika(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	for _, stop := range []string{"SIGTERM", "SIGKILL"} {
		t.Run(stop, func(t *testing.T) {
			proc := startWarren(t, dataDir, procOptions{})
			prefix := "durable-" + stop + "-"
			runTutorial(t, proc, "durable_before", prefix)
			if stop == "SIGKILL" {
				proc.kill()
			} else if code, ok := proc.signal(syscall.SIGTERM, 30*time.Second); !ok || code != 0 {
				t.Fatalf("SIGTERM: exited=%v code=%d", ok, code)
			}
			proc.checkLog(t, "before the restart")
			proc = startWarren(t, dataDir, procOptions{})
			runTutorial(t, proc, "durable_after", prefix)
			proc.checkLog(t, "after the restart")
		})
	}
}

// runScript runs a command with a deadline; the output has stdout and stderr
// (a Python traceback) together.
func runScript(t *testing.T, d time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}
