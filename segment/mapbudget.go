package segment

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// MapBudget bounds the memory mappings held across logs and ack indexes,
// the way FileCache bounds their descriptors. Every mapped segment and
// ack file is one mapping (one VMA), and the kernel refuses mmap past
// vm.max_map_count per process (65,530 by default): tens of thousands of
// durable queues, each with a head, a segment being read and an ack file
// mapped, would reach it, and every queue's next read would then fail.
//
// A holder (a Log, an index) counts its mappings here. When a new one
// would take the total to the budget, the mapper first makes the least
// recently used other holders let go of all theirs (CLOCK, as in
// FileCache: a holder used since the scan last passed gets a second
// chance). A holder is only ever touched under its Owner, the lock that
// guards it and every view into its mappings (the queue's mutex), taken
// with TryLock: a holder whose owner is busy is in use, so it is not
// cold, and the scan never waits for a lock, so it cannot deadlock
// whatever locks the mapper holds. An evicted holder maps again on its
// next read. A holder with no Owner is counted but never evicted by
// others.
//
// The budget is a target, not a wall: if nothing can be evicted the
// mapping is made anyway; only the kernel's refusal (ENOMEM) is an error
// (ErrMapLimit), after one more round of evictions.
type MapBudget struct {
	limit atomic.Int64
	count atomic.Int64 // mappings held by every holder

	mu   sync.Mutex
	head MapEntry // sentinel: head.next is most recently added, head.prev least
	n    int      // entries in the list

	evictions atomic.Uint64
	refused   atomic.Uint64
}

// Owner is the lock that guards a holder and every view into its
// mappings; *sync.Mutex is one.
type Owner interface {
	TryLock() bool
	Unlock()
}

// MapHolder lets go of all its mappings; the budget calls it with the
// holder's Owner held.
type MapHolder interface {
	ReleaseMaps()
}

// MapEntry is a holder's place in a MapBudget; the holder embeds it and
// calls Init before its first mapping. prev, next and in are guarded by
// the budget's mu.
type MapEntry struct {
	prev, next *MapEntry
	in         bool
	used       atomic.Bool  // mapped or read since the scan last passed
	held       atomic.Int32 // mappings held (changed under the Owner)
	owner      Owner
	holder     MapHolder
	b          *MapBudget
}

// maxMapVictims is how many holders one mapping may make let go: a
// holder has up to a handful of mappings, so a few free enough.
const maxMapVictims = 4

// NewMapBudget makes a budget of limit mappings (at least 1).
func NewMapBudget(limit int) *MapBudget {
	b := &MapBudget{}
	b.head.next, b.head.prev = &b.head, &b.head
	b.SetLimit(limit)
	return b
}

var (
	defaultMaps     *MapBudget
	defaultMapsOnce sync.Once
)

// DefaultMapBudget is the process's budget, used by logs and indexes
// whose options name none: vm.max_map_count is per process, so is the
// budget. It starts at DefaultMapLimit(); SetLimit changes it
// (warren.max_mappings).
func DefaultMapBudget() *MapBudget {
	defaultMapsOnce.Do(func() { defaultMaps = NewMapBudget(DefaultMapLimit()) })
	return defaultMaps
}

// DefaultMapLimit is half of the kernel's vm.max_map_count (65,530 unless
// raised): the rest is for the Go runtime's heap, thread stacks, shared
// libraries, stream readers' mappings, and mappings the budget lets go
// over while nothing is cold enough to evict.
func DefaultMapLimit() int {
	n := 65530
	if b, err := os.ReadFile("/proc/sys/vm/max_map_count"); err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && v > 0 {
			n = v
		}
	}
	return max(n/2, 64)
}

// SetLimit changes the budget (at least 1); holders over it are evicted
// as mappings are made.
func (b *MapBudget) SetLimit(limit int) { b.limit.Store(int64(max(limit, 1))) }

// Limit is the budget's number of mappings.
func (b *MapBudget) Limit() int { return int(b.limit.Load()) }

// Mapped is the number of mappings held now.
func (b *MapBudget) Mapped() int { return int(b.count.Load()) }

// Evictions counts the holders made to let go of their mappings.
func (b *MapBudget) Evictions() uint64 { return b.evictions.Load() }

// Refused counts the mappings the kernel refused (ENOMEM) after evictions.
func (b *MapBudget) Refused() uint64 { return b.refused.Load() }

// Init ties e to b, guarded by owner (nil: never evicted by others).
func (e *MapEntry) Init(b *MapBudget, owner Owner, h MapHolder) {
	e.b, e.owner, e.holder = b, owner, h
}

// Touch marks the holder as in use: the scan passes over it once.
func (e *MapEntry) Touch() {
	if !e.used.Load() {
		e.used.Store(true)
	}
}

// Reserve makes room for one more mapping of e's holder, evicting cold
// holders if the budget is reached. REQUIRES: e's Owner held.
func (e *MapEntry) Reserve() {
	if e.b.count.Load() >= e.b.limit.Load() {
		e.b.evict(e, false)
	}
}

// Retry is for a mapping the kernel refused: it evicts every other holder
// it can, used or not, and reports whether any let go, in which case the
// caller tries once more. REQUIRES: e's Owner held.
func (e *MapEntry) Retry() bool { return e.b.evict(e, true) > 0 }

// Refused counts a mapping the kernel refused for good.
func (e *MapEntry) Refused() { e.b.refused.Add(1) }

// Mapped counts a mapping e's holder made. REQUIRES: e's Owner held.
func (e *MapEntry) Mapped() {
	e.Touch()
	e.b.count.Add(1)
	if e.held.Add(1) == 1 {
		e.b.mu.Lock()
		if !e.in {
			e.b.pushFront(e)
			e.in = true
			e.b.n++
		}
		e.b.mu.Unlock()
	}
}

// Unmapped counts a mapping e's holder let go of. REQUIRES: e's Owner
// held (or the budget's scan holding it).
func (e *MapEntry) Unmapped() {
	e.b.count.Add(-1)
	// held drops before the list is looked at: a scan putting e back
	// checks held under mu, so one of the two sees the other's change.
	if e.held.Add(-1) == 0 {
		e.b.mu.Lock()
		if e.in {
			e.b.unlink(e)
			e.in = false
			e.b.n--
		}
		e.b.mu.Unlock()
	}
}

// evict makes up to maxMapVictims cold holders other than self let go of
// their mappings, until the count is under the limit (all it can, with
// all). It returns how many let go.
func (b *MapBudget) evict(self *MapEntry, all bool) int {
	var vs [maxMapVictims]*MapEntry
	nv := 0
	b.mu.Lock()
	// Each pass over an entry either takes it or clears its used bit, so
	// the scan ends within two turns of the list.
	for spins := 2 * b.n; spins > 0 && nv < maxMapVictims && b.n > 0; spins-- {
		v := b.head.prev
		b.unlink(v)
		if v == self || v.owner == nil || (v.used.Swap(false) && !all) {
			b.pushFront(v) // second chance
			continue
		}
		v.in = false
		b.n--
		vs[nv] = v
		nv++
	}
	b.mu.Unlock()
	done := 0
	for i, v := range vs[:nv] {
		vs[i] = nil
		if (!all && b.count.Load() < b.limit.Load()) || !v.owner.TryLock() {
			b.putBack(v)
			continue
		}
		if v.held.Load() > 0 {
			v.holder.ReleaseMaps()
			b.evictions.Add(1)
			done++
		}
		b.putBack(v) // in case its holder kept some
		v.owner.Unlock()
	}
	return done
}

// putBack returns a victim the scan could not evict to the list, unless
// its holder let go of everything meanwhile (or mapped again and put
// itself back).
func (b *MapBudget) putBack(v *MapEntry) {
	b.mu.Lock()
	if !v.in && v.held.Load() > 0 {
		b.pushFront(v)
		v.in = true
		b.n++
	}
	b.mu.Unlock()
}

func (b *MapBudget) pushFront(e *MapEntry) {
	e.prev, e.next = &b.head, b.head.next
	b.head.next.prev = e
	b.head.next = e
}

func (b *MapBudget) unlink(e *MapEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}
