//go:build linux

package main

// Process-level harness: the tests in this package build the warren binary
// once per test run, start it as a real process with its own -data-dir on a
// loopback port it picks itself (-amqp-port 0, read back from its log), and
// stop it with real signals (SIGKILL, SIGTERM).
//
// WARREN_SOAK=1 turns on the heavy variants (the Soak tests, run by
// `make soak`) and builds the binary with -race; WARREN_RACE=1 builds with
// -race without the soak variants.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func soak() bool { return os.Getenv("WARREN_SOAK") == "1" }

func raceBuild() bool { return soak() || os.Getenv("WARREN_RACE") == "1" }

// warrenBinary builds ./cmd/warren once per test binary run.
func warrenBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "warren-bin-*")
		if buildErr != nil {
			return
		}
		bin := filepath.Join(buildDir, "warren")
		args := []string{"build", "-o", bin}
		if raceBuild() {
			args = append(args, "-race")
		}
		args = append(args, ".")
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", args...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
			return
		}
		buildBin = bin
	})
	if buildErr != nil {
		t.Fatalf("building warren: %v", buildErr)
	}
	return buildBin
}

// warrenProc is one running warren process.
type warrenProc struct {
	t       testing.TB
	dataDir string
	addr    string
	url     string // amqp091-go style, with the trailing "/"
	logPath string
	cmd     *exec.Cmd
	started time.Time
	ready   time.Duration // start to "warren started" in the log

	done     chan struct{}
	waitErr  error
	state    *os.ProcessState
	signaled bool // we sent a signal (a later exit is expected)
}

// procOptions tunes startWarren.
type procOptions struct {
	args         []string      // extra flags
	readyTimeout time.Duration // default 30 s
	noWait       bool          // return right after exec, without waiting for readiness
	nofile       int           // if > 0, RLIMIT_NOFILE (soft and hard) for the process
	nofileSoft   int           // if > 0 with nofile, the soft limit alone (nofile is the hard one)
	cgroupProcs  string        // if set, a cgroup.procs file the process joins before exec
	// bare passes only args: no -bind, -amqp-port, -http-port, -data-dir
	// (for tests where a config file sets them).
	bare bool
	env  []string // added to the environment
	// streamFromConfig leaves the stream listener to the config file
	// (otherwise -stream-port 0 unless args set it).
	streamFromConfig bool
}

var logSeq struct {
	sync.Mutex
	n int
}

// startWarren starts warren on dataDir and waits until it logs
// "warren started". The process is killed at test cleanup if still running.
func startWarren(t testing.TB, dataDir string, o procOptions) *warrenProc {
	t.Helper()
	bin := warrenBinary(t)
	if o.readyTimeout == 0 {
		o.readyTimeout = 30 * time.Second
	}
	p, err := tryStartWarren(t, bin, dataDir, o)
	if err != nil {
		t.Fatalf("starting warren on %s: %v", dataDir, err)
	}
	return p
}

// startedLine is warren's readiness log line; it carries the bound AMQP
// address, so warren can listen on port 0 and tell us the port.
// The second form is log.console.formatter = json's.
var startedLine = regexp.MustCompile(`msg="warren started" amqp=(\S+)|"msg":"warren started","amqp":"([^"]+)"`)

func tryStartWarren(t testing.TB, bin, dataDir string, o procOptions) (*warrenProc, error) {
	logSeq.Lock()
	logSeq.n++
	n := logSeq.n
	logSeq.Unlock()
	logDir := filepath.Join(filepath.Dir(dataDir), "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(logDir, fmt.Sprintf("warren-%03d.log", n))
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"-bind", "127.0.0.1",
		"-amqp-port", "0",
		"-http-port", "0",
		"-prometheus-port", "0",
		"-data-dir", dataDir,
	}, o.args...)
	if o.bare {
		args = o.args
	}
	if !slices.Contains(args, "-stream-port") && !o.streamFromConfig {
		// The stream listener's default, 5552, is RabbitMQ's stream plugin's
		// on this machine: off unless a test asks for it.
		args = append(args, "-stream-port", "0")
	}
	cmd := exec.Command(bin, args...)
	if o.nofile > 0 {
		// The shell's ulimit sets soft and hard limits; exec keeps the pid.
		cmd = exec.Command("sh", append([]string{"-c", fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, o.nofile), bin}, args...)...)
		if o.nofileSoft > 0 {
			cmd = exec.Command("sh", append([]string{"-c", fmt.Sprintf(`ulimit -Sn %d && ulimit -Hn %d && exec "$0" "$@"`, o.nofileSoft, o.nofile), bin}, args...)...)
		}
	}
	if o.cgroupProcs != "" {
		// The shell joins the cgroup, then becomes warren (same pid).
		cmd = exec.Command("sh", append([]string{"-c", `echo $$ > "$WARREN_TEST_CGROUP_PROCS" && exec "$0" "$@"`, bin}, args...)...)
		o.env = append(o.env, "WARREN_TEST_CGROUP_PROCS="+o.cgroupProcs)
	}
	cmd.Stdout = lf
	cmd.Stderr = lf
	if len(o.env) > 0 {
		cmd.Env = append(os.Environ(), o.env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &warrenProc{t: t, dataDir: dataDir, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	go func() {
		p.waitErr = cmd.Wait()
		p.state = cmd.ProcessState
		lf.Close()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill() })
	if o.noWait {
		return p, nil
	}
	deadline := time.NewTimer(o.readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.done:
			return nil, fmt.Errorf("warren exited during startup (%v); log:\n%s", p.waitErr, tail(p.log(), 4000))
		case <-deadline.C:
			p.kill()
			return nil, fmt.Errorf("warren not ready after %v; log:\n%s", o.readyTimeout, tail(p.log(), 4000))
		case <-tick.C:
			if m := startedLine.FindStringSubmatch(p.log()); m != nil {
				p.ready = time.Since(p.started)
				p.addr = m[1] + m[2]
				p.url = "amqp://guest:guest@" + p.addr + "/"
				return p, nil
			}
		}
	}
}

// log returns everything the process wrote so far.
func (p *warrenProc) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

func (p *warrenProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to go.
func (p *warrenProc) kill() {
	if p.exited() {
		return
	}
	p.signaled = true
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Errorf("warren pid %d still running 30s after SIGKILL", p.cmd.Process.Pid)
	}
}

// signal sends sig and waits up to timeout for the exit. It returns the exit
// code (-1 when killed by a signal) and whether the process exited in time.
func (p *warrenProc) signal(sig syscall.Signal, timeout time.Duration) (code int, exited bool) {
	p.signaled = true
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return p.state.ExitCode(), true
	case <-time.After(timeout):
		return 0, false
	}
}

// checkLog fails the test when the log shows a panic, a Go runtime fatal
// error or (in -race builds) a data race.
func (p *warrenProc) checkLog(t testing.TB, what string) {
	t.Helper()
	log := p.log()
	for _, bad := range []string{"panic:", "fatal error:", "WARNING: DATA RACE", "SIGSEGV"} {
		if i := strings.Index(log, bad); i >= 0 {
			t.Errorf("%s: warren log %s shows %q:\n%s", what, p.logPath, bad, tail(log[max(0, i-2000):], 8000))
			return
		}
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// logLines returns the log lines at WARN or ERROR level.
func logProblems(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			out = append(out, l)
		}
	}
	return out
}

// dialAMQP connects with bounded timeouts. frameSize 0 keeps amqp091-go's
// default (128 KiB).
func dialAMQP(url string, frameSize int) (*amqp.Connection, error) {
	return amqp.DialConfig(url, amqp.Config{
		Dial:      amqp.DefaultDial(5 * time.Second),
		Heartbeat: 10 * time.Second,
		FrameSize: frameSize,
		Locale:    "en_US",
	})
}

func mustDial(t testing.TB, url string) *amqp.Connection {
	t.Helper()
	c, err := dialAMQP(url, 0)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// withTimeout runs f and fails the test if it has not returned in d.
func withTimeout(t testing.TB, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("%s did not finish in %v; goroutines:\n%s", what, d, bytes.TrimSpace(buf))
	}
}
