//go:build linux

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// runBinary runs the warren binary to completion (it must exit by itself).
func runBinary(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(warrenBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("warren %v did not exit", args)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestVersionFlag(t *testing.T) {
	out, errOut, code := runBinary(t, nil, "-version")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	if !strings.HasPrefix(out, "warren ") || !strings.Contains(out, runtime.Version()) {
		t.Fatalf("-version printed %q, want warren's version and %s", out, runtime.Version())
	}
}

// A stray argument (a forgotten dash, a config file name) is refused with
// the usage and exit status 2, like a bad flag, instead of being ignored.
func TestStrayArgumentRefused(t *testing.T) {
	_, errOut, code := runBinary(t, nil, "-http-port", "0", "5673")
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr %s", code, errOut)
	}
	if !strings.Contains(errOut, `unexpected argument "5673"`) || !strings.Contains(errOut, "-amqp-port") {
		t.Fatalf("stderr %q, want the argument named and the usage", errOut)
	}
}

// gnet's logging package panicked in its init (before main) on
// GNET_LOGGING_LEVEL=error; netio/internal/gnetenv runs first and drops it.
func TestGnetEnvIgnored(t *testing.T) {
	for _, env := range []string{"GNET_LOGGING_LEVEL=error", "GNET_LOGGING_FILE=/nonexistent/dir/gnet.log"} {
		out, errOut, code := runBinary(t, []string{env}, "-version")
		if code != 0 || !strings.HasPrefix(out, "warren ") {
			t.Fatalf("%s warren -version: exit %d, stdout %q, stderr %s", env, code, out, errOut)
		}
	}
}

// A bad flag, or a bad WARREN_* value for one, is refused with exit
// status 2 before anything starts.
func TestBadFlagOrEnvRefused(t *testing.T) {
	_, errOut, code := runBinary(t, nil, "-no-such-flag")
	if code != 2 || !strings.Contains(errOut, "flag provided but not defined: -no-such-flag") {
		t.Fatalf("-no-such-flag: exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = runBinary(t, []string{"WARREN_AMQP_PORT=many"}, "-http-port", "0")
	if code != 2 || !strings.Contains(errOut, "WARREN_AMQP_PORT") {
		t.Fatalf("WARREN_AMQP_PORT=many: exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = runBinary(t, []string{"RABBITMQ_NODE_PORT=many"}, "-http-port", "0")
	if code != 2 || !strings.Contains(errOut, `RABBITMQ_NODE_PORT="many" is not a port`) {
		t.Fatalf("RABBITMQ_NODE_PORT=many: exit %d, stderr %q", code, errOut)
	}
}
