//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testMemoryCgroup makes a memory cgroup under this process's own, limited
// to limit bytes, and returns its cgroup.procs file; it skips the test
// where the machine does not let it (not root, no writable memory
// controller).
func testMemoryCgroup(t *testing.T, limit int64) string {
	t.Helper()
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Skipf("no /proc/self/cgroup: %v", err)
	}
	var dir, file string
	for _, line := range strings.Split(string(self), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == "memory" { // v1: the memory controller's own hierarchy
				dir, file = filepath.Join("/sys/fs/cgroup/memory", parts[2]), "memory.limit_in_bytes"
			}
		}
		if parts[0] == "0" && parts[1] == "" && dir == "" {
			dir, file = filepath.Join("/sys/fs/cgroup", parts[2]), "memory.max"
		}
	}
	if dir == "" {
		t.Skip("no memory cgroup")
	}
	child := filepath.Join(dir, fmt.Sprintf("warren-test-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-")))
	if err := os.Mkdir(child, 0o755); err != nil {
		t.Skipf("cannot make a memory cgroup here: %v", err)
	}
	t.Cleanup(func() { _ = os.Remove(child) }) // runs after the process is killed
	if err := os.WriteFile(filepath.Join(child, file), []byte(fmt.Sprint(limit)), 0o644); err != nil {
		t.Skipf("cannot limit the memory cgroup %s: %v", child, err)
	}
	return filepath.Join(child, "cgroup.procs")
}

// The relative memory watermark is of the cgroup limit when that is
// lower than RAM (a container's, a systemd unit's MemoryMax=): in a
// 128 MiB cgroup, vm_memory_high_watermark.relative = 0.01 is 1.28 MiB,
// which a running broker's memory passes at once. Of RAM it would be tens
// of MiB at least and the alarm would stay off.
func TestMemoryAlarmRelativeToCgroupLimit(t *testing.T) {
	const limit = 128 << 20
	procs := testMemoryCgroup(t, limit)
	conf := writeConf(t, "vm_memory_high_watermark.relative = 0.01\n")
	p := startWarren(t, t.TempDir()+"/data", procOptions{args: []string{"-config", conf}, cgroupProcs: procs})
	ratio := 0.01
	want := fmt.Sprintf("limit=%d", int64(ratio*float64(limit)))
	for end := time.Now().Add(30 * time.Second); !strings.Contains(p.log(), "memory resource limit alarm set") && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	log := p.log()
	if !strings.Contains(log, "memory resource limit alarm set") || !strings.Contains(log, want) {
		t.Fatalf("no memory alarm with %s (0.01 of the 128 MiB cgroup); log:\n%s", want, tail(log, 3000))
	}
}
