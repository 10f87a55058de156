package perf

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// clockTicks is USER_HZ, 100 on every Linux ABI Go supports.
const clockTicks = 100

// ProcSample is one reading of a process's CPU time and memory.
type ProcSample struct {
	CPUSeconds float64 // user + system
	RSSBytes   int64   // VmRSS
	HWMBytes   int64   // VmHWM, peak RSS since start
}

// ReadProc reads /proc/PID/stat and /proc/PID/status.
func ReadProc(pid int) (ProcSample, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ProcSample{}, err
	}
	var s ProcSample
	if s.CPUSeconds, err = parseStatCPU(stat); err != nil {
		return ProcSample{}, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ProcSample{}, err
	}
	s.RSSBytes = statusKB(status, "VmRSS:") * 1024
	s.HWMBytes = statusKB(status, "VmHWM:") * 1024
	return s, nil
}

// parseStatCPU returns utime+stime in seconds. Fields are counted after the
// last ')' because the command name may hold spaces and parentheses.
func parseStatCPU(stat []byte) (float64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("procstat: malformed stat")
	}
	f := bytes.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("procstat: short stat")
	}
	u, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	s, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("procstat: bad utime/stime")
	}
	return float64(u+s) / clockTicks, nil
}

// statusKB returns the kB value of a /proc status line, or 0.
func statusKB(status []byte, key string) int64 {
	for _, line := range bytes.Split(status, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte(key)); ok {
			f := bytes.Fields(rest)
			if len(f) > 0 {
				v, _ := strconv.ParseInt(string(f[0]), 10, 64)
				return v
			}
		}
	}
	return 0
}
