package mgmt

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// readProcess reads the figures from /proc and the kernel: resident set,
// open descriptors, their limit, free disk under the data directory, RAM.
func readProcess(dataDir string) processSample {
	var p processSample
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := bytes.Fields(b); len(f) > 1 {
			pages, _ := strconv.ParseUint(string(f[1]), 10, 64)
			p.rss = pages * uint64(os.Getpagesize())
		}
	}
	if d, err := os.Open("/proc/self/fd"); err == nil {
		names, _ := d.Readdirnames(-1)
		_ = d.Close()
		p.openFDs = uint64(max(len(names)-1, 0)) // less the one reading it
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		p.maxFDs = lim.Cur
	}
	var fs syscall.Statfs_t
	if syscall.Statfs(dataDir, &fs) == nil {
		p.diskFree = fs.Bavail * uint64(fs.Bsize)
	}
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) == nil {
		p.totalRAM = uint64(si.Totalram) * uint64(si.Unit)
	}
	return p
}
