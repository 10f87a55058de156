package broker

import (
	"math"
	"os"
	"path/filepath"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// runtimeMemory is the memory the Go runtime holds from the OS: everything
// it mapped less what it returned (heap, stacks, its own structures). It
// is the alarm's measure rather than RSS because RSS also counts the
// mmapped segment files' pages, which are page cache the kernel reclaims
// on its own: a backlog read through would raise a memory alarm that no
// amount of blocking publishers could clear. It costs no syscall.
func runtimeMemory() int64 {
	s := []metrics.Sample{
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 || s[1].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64() - s[1].Value.Uint64())
}

// memoryTotal is the RAM, or the cgroup memory limit of the process if
// that is lower (a container's or a systemd unit's MemoryMax=), as the
// issue asks of the relative watermark.
func memoryTotal() int64 {
	var si syscall.Sysinfo_t
	total := int64(math.MaxInt64)
	if syscall.Sysinfo(&si) == nil {
		total = int64(si.Totalram) * int64(si.Unit)
	}
	if lim, ok := cgroupMemoryMax("/proc/self/cgroup", "/sys/fs/cgroup"); ok && lim < total {
		total = lim
	}
	return total
}

// cgroupMemoryMax is the lowest memory limit on the path from the
// process's cgroup up to the root: a limit set on a parent (a systemd
// slice, a pod) binds the leaf as much as one set on the leaf itself,
// whose own file then says "max". cgroup v2 (memory.max) is read first;
// on a v1 host the memory controller's memory.limit_in_bytes, whose
// "unlimited" is a huge number that the caller's min with RAM discards.
// procCgroup is /proc/self/cgroup and root the cgroup mount, parameters
// so a test can give a tree of its own.
func cgroupMemoryMax(procCgroup, root string) (int64, bool) {
	data, err := os.ReadFile(procCgroup)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		// hierarchy-id:controllers:path; v2's is "0::path".
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			if n, ok := lowestLimit(root, parts[2], "memory.max"); ok {
				return n, true
			}
		case slices.Contains(strings.Split(parts[1], ","), "memory"):
			if n, ok := lowestLimit(filepath.Join(root, "memory"), parts[2], "memory.limit_in_bytes"); ok {
				return n, true
			}
		}
	}
	return 0, false
}

// lowestLimit reads name in mount/path and each of its parents up to the
// mount, and returns the lowest number found ("max" is no limit). A path
// that is not under the mount (a container without its own cgroup
// namespace sees the host's path) leaves the mount's own file.
func lowestLimit(mount, path, name string) (int64, bool) {
	var low int64
	found := false
	dir := filepath.Join(mount, filepath.Clean("/"+path))
	for {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			if err == nil && n > 0 && (!found || n < low) {
				low, found = n, true
			}
		}
		if dir == mount || len(dir) < len(mount) {
			return low, found
		}
		dir = filepath.Dir(dir)
	}
}

// diskFree is the space an unprivileged writer can still use on dir's
// filesystem.
func diskFree(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * st.Bsize, nil
}
