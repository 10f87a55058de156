package broker

import (
	"bufio"
	"math"
	"os"
	"runtime/metrics"
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

// memoryTotal is the RAM, or the cgroup v2 memory.max of the process's
// cgroup if that is lower (a container's limit), as RabbitMQ uses.
func memoryTotal() int64 {
	var si syscall.Sysinfo_t
	total := int64(math.MaxInt64)
	if syscall.Sysinfo(&si) == nil {
		total = int64(si.Totalram) * int64(si.Unit)
	}
	if lim, ok := cgroupMemoryMax(); ok && lim < total {
		total = lim
	}
	return total
}

// cgroupMemoryMax reads memory.max of the cgroup v2 the process is in.
func cgroupMemoryMax() (int64, bool) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		path, ok := strings.CutPrefix(sc.Text(), "0::")
		if !ok {
			continue
		}
		b, err := os.ReadFile("/sys/fs/cgroup" + path + "/memory.max")
		if err != nil {
			b, err = os.ReadFile("/sys/fs/cgroup/memory.max")
		}
		if err != nil {
			return 0, false
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return n, err == nil && n > 0 // "max" means no limit
	}
	return 0, false
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
