//go:build linux

package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// deploy/warren.service passes systemd-analyze verify with no complaint
// (unknown directives are only warnings there, so any output fails). The
// copy verified points ExecStart at the binary under test, because verify
// checks that the command exists.
func TestSystemdUnitVerifies(t *testing.T) {
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: deploy/warren.service not verified")
	}
	unit, err := os.ReadFile("../../deploy/warren.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Type=notify", "LimitNOFILE=", "Restart=on-failure", "-config /etc/warren/warren.conf", "User=warren"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("warren.service lacks %q", want)
		}
	}
	text := strings.ReplaceAll(string(unit), "/usr/local/bin/warren", warrenBinary(t))
	path := filepath.Join(t.TempDir(), "warren.service")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// The packaged config starts warren (ports and data dir overridden).
func TestPackagedConfigStarts(t *testing.T) {
	p := startWarren(t, t.TempDir()+"/data", procOptions{args: []string{"-config", "../../deploy/warren.conf"}})
	if problems := logProblems(p.log()); len(problems) > 0 {
		t.Fatalf("deploy/warren.conf logs warnings: %v", problems)
	}
}

// With Type=notify systemd waits for READY=1 on $NOTIFY_SOCKET, sent once
// the listener is bound; STOPPING=1 comes at shutdown.
func TestSdNotify(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p := startWarren(t, t.TempDir()+"/data", procOptions{env: []string{"NOTIFY_SOCKET=" + sock}})
	read := func() string {
		_ = ln.SetReadDeadline(time.Now().Add(30 * time.Second))
		buf := make([]byte, 256)
		n, err := ln.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v", err)
		}
		return string(buf[:n])
	}
	if got := read(); got != "READY=1" {
		t.Fatalf("first notification %q, want READY=1", got)
	}
	if c, err := dialAMQP(p.url, 0); err != nil {
		t.Fatalf("dial after READY=1: %v", err)
	} else {
		_ = c.Close()
	}
	if _, exited := p.signal(syscall.SIGTERM, 0); exited {
		t.Fatal("exited at once")
	}
	if got := read(); got != "STOPPING=1" {
		t.Fatalf("notification at shutdown %q, want STOPPING=1", got)
	}
}
