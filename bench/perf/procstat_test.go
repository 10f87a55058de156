package perf

import (
	"os"
	"testing"
)

func TestParseStatCPU(t *testing.T) {
	stat := []byte("4047 (beam.smp (x) y) S 1 4000 4000 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 30 0 123 456 789")
	got, err := parseStatCPU(stat)
	if err != nil || got != 3.0 {
		t.Fatalf("cpu %v err %v", got, err)
	}
	if _, err := parseStatCPU([]byte("1 (x) S 1")); err == nil {
		t.Fatal("short stat accepted")
	}
}

func TestStatusKB(t *testing.T) {
	st := []byte("Name:\tbeam.smp\nVmHWM:\t  200 kB\nVmRSS:\t  123456 kB\n")
	if v := statusKB(st, "VmRSS:"); v != 123456 {
		t.Fatalf("rss %d", v)
	}
	if v := statusKB(st, "VmSwap:"); v != 0 {
		t.Fatalf("missing %d", v)
	}
}

func TestReadProcSelf(t *testing.T) {
	s, err := ReadProc(os.Getpid())
	if err != nil {
		t.Skip("no /proc:", err)
	}
	if s.RSSBytes <= 0 || s.HWMBytes < s.RSSBytes || s.CPUSeconds < 0 {
		t.Fatalf("sample %+v", s)
	}
}

func TestParseMachineBusy(t *testing.T) {
	stat := []byte("cpu  100 20 30 1000 50 5 5 10 7 0\ncpu0 1 2 3 4 5 6 7 8 9 0\n")
	got, err := parseMachineBusy(stat)
	if err != nil || got != 1.70 {
		t.Fatalf("busy %v err %v", got, err)
	}
	if _, err := parseMachineBusy([]byte("intr 1 2\n")); err == nil {
		t.Fatal("bad stat accepted")
	}
}
