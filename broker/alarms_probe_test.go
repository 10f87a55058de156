package broker

import (
	"os"
	"path/filepath"
	"testing"
)

// The relative memory watermark is of the cgroup limit when one binds
// the process: the lowest limit from its cgroup up to the root, v2 or v1.
func TestCgroupMemoryMax(t *testing.T) {
	write := func(t *testing.T, path, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name   string
		cgroup string
		files  map[string]string
		want   int64
		ok     bool
	}{
		{"v2 leaf limit", "0::/system.slice/warren.service\n",
			map[string]string{"system.slice/warren.service/memory.max": "536870912\n", "system.slice/memory.max": "max\n"}, 512 << 20, true},
		// systemd's MemoryMax= on the slice, the service's own file "max".
		{"v2 parent limit", "0::/warren.slice/warren.service\n",
			map[string]string{"warren.slice/warren.service/memory.max": "max\n", "warren.slice/memory.max": "1073741824\n"}, 1 << 30, true},
		{"v2 lowest of both", "0::/a/b\n",
			map[string]string{"a/b/memory.max": "3000000000\n", "a/memory.max": "2000000000\n"}, 2000000000, true},
		{"v2 no limit", "0::/user.slice\n", map[string]string{"user.slice/memory.max": "max\n"}, 0, false},
		// A container in its own cgroup namespace sees "/" and the mount's file.
		{"v2 namespace root", "0::/\n", map[string]string{"memory.max": "268435456\n"}, 256 << 20, true},
		// Without one it sees the host's path, absent under its mount.
		{"v2 host path", "0::/docker/abc123\n", map[string]string{"memory.max": "268435456\n"}, 256 << 20, true},
		{"v1", "12:pids:/docker/x\n9:memory:/docker/x\n1:name=systemd:/docker/x\n0::/docker/x\n",
			map[string]string{"memory/docker/x/memory.limit_in_bytes": "402653184\n", "memory/memory.limit_in_bytes": "9223372036854771712\n"}, 384 << 20, true},
		{"v1 joined controllers", "4:cpu,memory:/k\n",
			map[string]string{"memory/k/memory.limit_in_bytes": "100000000\n"}, 100000000, true},
		{"none", "0::/x\n", nil, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			root := filepath.Join(dir, "cgroup")
			if err := os.MkdirAll(root, 0o755); err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, "self-cgroup"), c.cgroup)
			for p, text := range c.files {
				write(t, filepath.Join(root, p), text)
			}
			n, ok := cgroupMemoryMax(filepath.Join(dir, "self-cgroup"), root)
			if n != c.want || ok != c.ok {
				t.Errorf("got %d, %v; want %d, %v", n, ok, c.want, c.ok)
			}
		})
	}
	if _, ok := cgroupMemoryMax("/nonexistent/cgroup", "/sys/fs/cgroup"); ok {
		t.Error("a limit from no /proc/self/cgroup")
	}
}
