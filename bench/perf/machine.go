package perf

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// machineBusySeconds is the CPU time all cores spent not idle (not idle, not
// iowait) since boot, from the "cpu" line of /proc/stat.
func machineBusySeconds() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseMachineBusy(b)
}

func parseMachineBusy(stat []byte) (float64, error) {
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 6 || string(f[0]) != "cpu" {
		return 0, fmt.Errorf("machine: malformed /proc/stat")
	}
	var busy uint64
	for i, v := range f[1:] {
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("machine: bad /proc/stat field")
		}
		// user nice system idle iowait irq softirq steal guest guest_nice;
		// guest time is already counted in user.
		if i != 3 && i != 4 && i < 8 {
			busy += n
		}
	}
	return float64(busy) / clockTicks, nil
}

// Settle waits until the broker (when pid > 0) and the machine as a whole
// are quiet: broker under 15% of a core and all other processes under half
// a core, over one second. It gives up after maxWait and says how it went.
func Settle(pid int, maxWait time.Duration) string {
	deadline := time.Now().Add(maxWait)
	start := time.Now()
	for {
		m0, err := machineBusySeconds()
		if err != nil {
			return "no /proc/stat"
		}
		var b0 ProcSample
		if pid > 0 {
			b0, _ = ReadProc(pid)
		}
		t0 := time.Now()
		time.Sleep(time.Second)
		m1, _ := machineBusySeconds()
		dt := time.Since(t0).Seconds()
		broker := 0.0
		if pid > 0 {
			b1, _ := ReadProc(pid)
			broker = (b1.CPUSeconds - b0.CPUSeconds) / dt
		}
		other := (m1-m0)/dt - broker
		if broker < 0.15 && other < 0.5 {
			return fmt.Sprintf("quiet after %.0fs", time.Since(start).Seconds())
		}
		if time.Now().After(deadline) {
			return fmt.Sprintf("not quiet after %.0fs (broker %.0f%%, other processes %.0f%% of a core)",
				time.Since(start).Seconds(), broker*100, other*100)
		}
	}
}
