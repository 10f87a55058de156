package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// procStatus is the memory part of /proc/PID/status, in bytes.
type procStatus struct {
	ok                          bool
	rss, hwm, anon, file, shmem int64
}

func (s procStatus) String() string {
	if !s.ok {
		return "n/a"
	}
	return fmt.Sprintf("VmRSS %s (anon %s, file %s, shmem %s; VmHWM %s)", mib(s.rss), mib(s.anon), mib(s.file), mib(s.shmem), mib(s.hwm))
}

func readProcStatus(pid int) procStatus {
	var s procStatus
	if pid == 0 {
		return s
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		n *= 1024 // kB
		switch k {
		case "VmRSS":
			s.rss, s.ok = n, true
		case "VmHWM":
			s.hwm = n
		case "RssAnon":
			s.anon = n
		case "RssFile":
			s.file = n
		case "RssShmem":
			s.shmem = n
		}
	}
	return s
}

func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	// A zombie (state Z) has exited.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// rssSampler records the highest VmRSS seen every 200 ms.
type rssSampler struct {
	peak atomic.Int64
	done chan struct{}
}

func newRSSSampler(pid int) *rssSampler {
	s := &rssSampler{done: make(chan struct{})}
	if pid == 0 {
		return s
	}
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			if st := readProcStatus(pid); st.rss > s.peak.Load() {
				s.peak.Store(st.rss)
			}
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) stop() int64 {
	close(s.done)
	return s.peak.Load()
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func gb(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
}

func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
