package broker

import (
	"sync/atomic"
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

func TestDiskCheckInterval(t *testing.T) {
	for _, c := range []struct {
		free, limit int64
		want        time.Duration
	}{
		{10 << 30, 50_000_000, time.Second},                    // far
		{150_000_000, 50_000_000, 800 * time.Millisecond},      // 100 MB above: 2 × 0.4 s at 250 MB/s
		{75_000_000, 25_000_000, 400 * time.Millisecond},       // 50 MB above, not within twice
		{90_000_000, 50_000_000, 100 * time.Millisecond},       // within twice the limit
		{1_010_000_000, 1_000_000_000, 100 * time.Millisecond}, // within twice
		{40_000_000, 50_000_000, 100 * time.Millisecond},       // alarmed
		{3_000_000, 1_000_000, 100 * time.Millisecond},         // 2 MB above: the floor
	} {
		if got := diskCheckInterval(c.free, c.limit); got != c.want {
			t.Errorf("free %d, limit %d: interval %v, want %v", c.free, c.limit, got, c.want)
		}
	}
}

// The monitor reads the disk every second, and ten times a second while
// free space is within twice the limit, as RabbitMQ checks more often when
// close; a reading far from the limit goes back to once a second.
func TestAlarmDiskCheckInterval(t *testing.T) {
	var reads atomic.Int64
	var free atomic.Int64
	free.Store(10 << 30)
	a := &Alarms{
		dir:      t.TempDir(),
		readMem:  func() int64 { return 1 },
		readDisk: func(string) (int64, error) { reads.Add(1); return free.Load(), nil },
		subs:     make(map[int]func(uint32)),
		check:    make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	a.memLimit.Store(1 << 40)
	a.diskLimit.Store(1 << 30)
	a.poll()
	go a.run()
	defer a.close()
	count := func(d time.Duration) int64 {
		start := reads.Load()
		time.Sleep(d)
		return reads.Load() - start
	}
	// Far (10 GiB free, limit 1 GiB): about 3 reads in 3 s; a loaded
	// machine only makes fewer.
	if n := count(3 * time.Second); n < 1 || n > 4 {
		t.Errorf("%d disk reads in 3 s far from the limit, want about 3 (every second)", n)
	}
	free.Store(1<<30 + 1<<29) // 1.5 GiB: within twice the limit
	a.Recheck()
	// Near: about 30 reads in 3 s; at least 10 even on a busy machine.
	if n := count(3 * time.Second); n < 10 {
		t.Errorf("%d disk reads in 3 s close to the limit, want about 30 (every 100 ms)", n)
	}
	if a.Active() != 0 {
		t.Errorf("alarm %b above the limit", a.Active())
	}
	free.Store(1 << 29) // under the limit: the alarm, still checked often
	a.Recheck()
	deadline := time.Now().Add(10 * time.Second)
	for a.Active() != AlarmDisk && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if a.Active() != AlarmDisk {
		t.Fatalf("alarms %b under the limit, want disk", a.Active())
	}
	if n := count(time.Second); n < 3 {
		t.Errorf("%d disk reads in 1 s under the limit, want about 10", n)
	}
}
