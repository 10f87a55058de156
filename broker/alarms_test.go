package broker

import (
	"testing"
	"time"
)

func TestAlarmLimits(t *testing.T) {
	const total = 8 << 30
	for _, tc := range []struct {
		cfg       AlarmConfig
		mem, disk int64
	}{
		{AlarmConfig{}, total * 4 / 10, DefaultDiskFreeLimit},
		{AlarmConfig{MemoryRelative: 0.6, DiskRelative: 1.5}, total * 6 / 10, total * 3 / 2},
		{AlarmConfig{MemoryAbsolute: 1 << 30, DiskAbsolute: 2e9}, 1 << 30, 2e9},
	} {
		if m, d := memoryLimit(tc.cfg, total), diskLimit(tc.cfg, total); m != tc.mem || d != tc.disk {
			t.Errorf("%+v: limits %d, %d; want %d, %d", tc.cfg, m, d, tc.mem, tc.disk)
		}
	}
}

// The machine's readings are real: the memory the runtime holds is
// neither 0 nor more than the total, and the data dir has free space.
func TestAlarmReadings(t *testing.T) {
	b := openTestBroker(t)
	s := b.Alarms().Status()
	if s.MemoryUsed <= 0 || s.MemoryUsed > s.MemoryTotal {
		t.Fatalf("memory used %d of %d", s.MemoryUsed, s.MemoryTotal)
	}
	if s.DiskFree <= 0 || s.DiskFreeLimit != DefaultDiskFreeLimit || s.MemoryLimit != int64(0.4*float64(s.MemoryTotal)) {
		t.Fatalf("status %+v", s)
	}
}

// Forcing each threshold past the reading raises its alarm, tells the
// subscribers, and moving it back clears it.
func TestAlarmRaiseAndClear(t *testing.T) {
	a := openTestBroker(t).Alarms()
	got := make(chan uint32, 8)
	cancel := a.Subscribe(func(on uint32) { got <- on })
	defer cancel()
	expect := func(want uint32) {
		t.Helper()
		select {
		case on := <-got:
			if on != want || a.Active() != want {
				t.Fatalf("alarms %b (Active %b), want %b", on, a.Active(), want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no change to %b", want)
		}
	}
	a.SetDiskFreeLimit(1 << 62)
	expect(AlarmDisk)
	a.SetMemoryLimit(1)
	expect(AlarmDisk | AlarmMemory)
	a.SetDiskFreeLimit(1)
	expect(AlarmMemory)
	a.SetMemoryLimit(1 << 62)
	expect(0)
	if s := a.Status(); s.Disk || s.Memory {
		t.Fatalf("status %+v after clearing", s)
	}
}
