package broker

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Resource alarms, as bits of Alarms.Active.
const (
	AlarmMemory uint32 = 1 << iota
	AlarmDisk
)

// AlarmConfig is vm_memory_high_watermark.* and disk_free_limit.*: each
// limit is relative (to the memory total) or absolute (bytes, when > 0).
// The zero value means RabbitMQ's defaults: 0.4 of memory, 50 MB free.
type AlarmConfig struct {
	MemoryRelative float64
	MemoryAbsolute int64
	DiskRelative   float64
	DiskAbsolute   int64
}

// DefaultDiskFreeLimit is RabbitMQ's disk_free_limit.absolute default.
const DefaultDiskFreeLimit = 50_000_000

// AlarmStatus is the alarms' last readings, for logs, metrics and the API.
type AlarmStatus struct {
	Memory, Disk  bool
	MemoryUsed    int64
	MemoryLimit   int64
	MemoryTotal   int64 // the RAM (or cgroup limit) the relative watermark is of
	DiskFree      int64
	DiskFreeLimit int64
}

// Alarms watches memory and disk and raises RabbitMQ's resource alarms.
// Publishers read Active (one atomic load); connections subscribe to hear
// when it changes.
type Alarms struct {
	active atomic.Uint32

	memUsed, memLimit, memTotal atomic.Int64
	diskFree, diskLimit         atomic.Int64

	dir      string
	readMem  func() int64
	readDisk func(dir string) (int64, error)

	mu   sync.Mutex
	subs map[int]func(active uint32)
	next int

	check chan struct{}
	stop  chan struct{}
	done  chan struct{}
}

// Check intervals: the disk at least every second, and ten times as often
// when free space is within twice the limit. In between, as RabbitMQ's
// rabbit_disk_monitor: twice the time a writer at alarmFastRate would take
// to use the space left above the limit, so a fast publisher cannot write
// far past the limit between two checks (at 250 MB/s, 100 MB above the
// limit is checked every 0.8 s, 25 MB above it every 0.2 s).
const (
	alarmInterval     = time.Second
	alarmIntervalNear = 100 * time.Millisecond
	alarmFastRate     = 250_000_000 // bytes per second, RabbitMQ's FAST_RATE
)

func newAlarms(cfg AlarmConfig, dir string) *Alarms {
	a := &Alarms{
		dir:      dir,
		readMem:  runtimeMemory,
		readDisk: diskFree,
		subs:     make(map[int]func(uint32)),
		check:    make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	total := memoryTotal()
	a.memTotal.Store(total)
	a.memLimit.Store(memoryLimit(cfg, total))
	a.diskLimit.Store(diskLimit(cfg, total))
	a.poll()
	go a.run()
	return a
}

func memoryLimit(cfg AlarmConfig, total int64) int64 {
	if cfg.MemoryAbsolute > 0 {
		return cfg.MemoryAbsolute
	}
	r := cfg.MemoryRelative
	if r == 0 {
		r = 0.4
	}
	return int64(r * float64(total))
}

func diskLimit(cfg AlarmConfig, total int64) int64 {
	switch {
	case cfg.DiskAbsolute > 0:
		return cfg.DiskAbsolute
	case cfg.DiskRelative > 0:
		return int64(cfg.DiskRelative * float64(total))
	}
	return DefaultDiskFreeLimit
}

// Active is the alarms raised now (AlarmMemory | AlarmDisk); 0 when none.
func (a *Alarms) Active() uint32 { return a.active.Load() }

// Status is the last readings.
func (a *Alarms) Status() AlarmStatus {
	on := a.active.Load()
	return AlarmStatus{
		Memory: on&AlarmMemory != 0, Disk: on&AlarmDisk != 0,
		MemoryUsed: a.memUsed.Load(), MemoryLimit: a.memLimit.Load(), MemoryTotal: a.memTotal.Load(),
		DiskFree: a.diskFree.Load(), DiskFreeLimit: a.diskLimit.Load(),
	}
}

// SetMemoryLimit changes the memory high watermark (bytes) at run time,
// as rabbitmqctl set_vm_memory_high_watermark absolute does, and checks at once.
func (a *Alarms) SetMemoryLimit(n int64) {
	a.memLimit.Store(n)
	a.Recheck()
}

// SetDiskFreeLimit changes disk_free_limit (bytes) at run time, as
// rabbitmqctl set_disk_free_limit does, and checks at once.
func (a *Alarms) SetDiskFreeLimit(n int64) {
	a.diskLimit.Store(n)
	a.Recheck()
}

// Recheck asks for a check now, without waiting for the interval.
func (a *Alarms) Recheck() {
	select {
	case a.check <- struct{}{}:
	default:
	}
}

// Subscribe calls fn with the new Active value each time it changes, on
// the monitor's goroutine: fn must be quick. cancel stops the calls.
func (a *Alarms) Subscribe(fn func(active uint32)) (cancel func()) {
	a.mu.Lock()
	id := a.next
	a.next++
	a.subs[id] = fn
	a.mu.Unlock()
	return func() {
		a.mu.Lock()
		delete(a.subs, id)
		a.mu.Unlock()
	}
}

func (a *Alarms) run() {
	defer close(a.done)
	t := time.NewTimer(a.interval())
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-a.check:
		case <-t.C:
		}
		a.poll()
		t.Reset(a.interval())
	}
}

func (a *Alarms) interval() time.Duration {
	return diskCheckInterval(a.diskFree.Load(), a.diskLimit.Load())
}

func diskCheckInterval(free, limit int64) time.Duration {
	if free < 2*limit {
		return alarmIntervalNear
	}
	ideal := time.Duration(float64(2*(free-limit)) / alarmFastRate * float64(time.Second))
	return min(alarmInterval, max(alarmIntervalNear, ideal))
}

// poll reads memory and disk, and raises or clears the alarms.
func (a *Alarms) poll() {
	used := a.readMem()
	a.memUsed.Store(used)
	on := a.active.Load() &^ (AlarmMemory | AlarmDisk)
	if used > a.memLimit.Load() {
		on |= AlarmMemory
	}
	free, err := a.readDisk(a.dir)
	if err != nil {
		// As RabbitMQ: a disk whose free space cannot be read keeps its
		// last state rather than flapping the alarm.
		slog.Warn("free disk space unknown", "dir", a.dir, "err", err)
		on |= a.active.Load() & AlarmDisk
	} else {
		a.diskFree.Store(free)
		if free < a.diskLimit.Load() {
			on |= AlarmDisk
		}
	}
	a.set(on)
}

func (a *Alarms) set(on uint32) {
	was := a.active.Swap(on)
	if was == on {
		return
	}
	a.logChange(was, on)
	a.mu.Lock()
	subs := make([]func(uint32), 0, len(a.subs))
	for _, fn := range a.subs {
		subs = append(subs, fn)
	}
	a.mu.Unlock()
	for _, fn := range subs {
		fn(on)
	}
}

// logChange uses RabbitMQ's words for its alarms.
func (a *Alarms) logChange(was, on uint32) {
	s := a.Status()
	if changed := was ^ on; changed&AlarmMemory != 0 {
		if on&AlarmMemory != 0 {
			slog.Warn("memory resource limit alarm set on node; publishers will be blocked until this alarm clears",
				"used", s.MemoryUsed, "limit", s.MemoryLimit)
		} else {
			slog.Info("memory resource limit alarm cleared on node", "used", s.MemoryUsed, "limit", s.MemoryLimit)
		}
	}
	if changed := was ^ on; changed&AlarmDisk != 0 {
		if on&AlarmDisk != 0 {
			slog.Warn("disk resource limit alarm set on node; publishers will be blocked until this alarm clears",
				"free", s.DiskFree, "limit", s.DiskFreeLimit, "dir", a.dir)
		} else {
			slog.Info("disk resource limit alarm cleared on node", "free", s.DiskFree, "limit", s.DiskFreeLimit, "dir", a.dir)
		}
	}
}

func (a *Alarms) close() {
	select {
	case <-a.stop:
	default:
		close(a.stop)
	}
	<-a.done
}
