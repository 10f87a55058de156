package segment

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// FileCache bounds the file descriptors that logs keep open, the way a
// storage engine's table cache bounds its open tables (pebble's table
// cache: a fixed number of open files, least recently used closed first,
// reopened on demand).
//
// What holds a descriptor: only a log's head segment, while it is being
// written. Sealed segments hold none (a read maps the file and closes the
// descriptor at once; the mapping needs none), ack files and the delivered
// hint close theirs after each use, and a durable log's directory is open
// only until the Syncer has fsynced a new name. So the cache has one entry
// per log with a head, and the broker holds at most Budget of those plus
// what is in use for a moment: 100,000 queues each holding a backlog fit
// in a 1,024-fd limit.
//
// Eviction: a log that opens its head's descriptor adds itself; past the
// budget, the cache closes the least recently used other head (its staged
// records are written out first, and a durable head's descriptor lives on
// in the Syncer until the round that covers it). The evicted log reopens
// its file at its next append. Appends do not take the cache's lock: they
// set a "used" bit on the log, and the eviction scan gives a log whose bit
// is set a second chance (the CLOCK approximation of LRU), so a busy
// queue's head stays open. A durable head waiting for its group commit is
// passed over too, while there are others to close: the Syncer holds its
// descriptor until the round, so closing it would free nothing yet.
//
// Lock order: a log's staging lock (wbuf.mu), then FileCache.mu. The cache
// never takes a staging lock while holding mu: the victims are closed after
// mu is released, by the caller, holding no staging lock of its own.
type FileCache struct {
	budget int

	mu   sync.Mutex
	head cacheEntry // sentinel: head.next is most recently used, head.prev least
	n    int        // entries in the list

	evictions atomic.Uint64
}

// cacheEntry is a log's place in the cache. The list links and in are
// guarded by FileCache.mu; gen is written with both the log's staging lock
// and FileCache.mu held, so either lock suffices to read it.
type cacheEntry struct {
	prev, next *cacheEntry
	in         bool
	gen        uint64 // bumped each time the entry is added
	w          *wbuf
}

// victim is a head the cache chose to close: gen tells whether the log
// reopened (and re-added) its file since, in which case it is left alone.
type victim struct {
	w   *wbuf
	gen uint64
}

// maxVictims is how many heads one add may close: one add opens one file,
// so two keep the count at the budget even if an earlier eviction lost a
// race.
const maxVictims = 2

// NewFileCache makes a cache that keeps at most budget heads open (at
// least 1).
func NewFileCache(budget int) *FileCache {
	c := &FileCache{budget: max(budget, 1)}
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

var (
	defaultCache     *FileCache
	defaultCacheOnce sync.Once
)

// DefaultFileCache is the process's cache, used by logs whose Options name
// none: the fd limit is per process, so is its budget. The budget is a
// quarter of the soft RLIMIT_NOFILE when first used (after the broker
// raised it), at least 16: the rest is for connections, ack files, the
// Syncer's directories and the data dir's own files.
func DefaultFileCache() *FileCache {
	defaultCacheOnce.Do(func() {
		budget := 256
		var lim unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err == nil && lim.Cur > 0 {
			budget = int(min(lim.Cur/4, 1<<30))
		}
		defaultCache = NewFileCache(max(budget, 16))
	})
	return defaultCache
}

// Budget is the number of heads the cache keeps open at most.
func (c *FileCache) Budget() int { return c.budget }

// Open is the number of heads open right now.
func (c *FileCache) Open() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// Evictions counts the heads closed to stay within the budget.
func (c *FileCache) Evictions() uint64 { return c.evictions.Load() }

// add puts e at the most recently used end and picks the heads to close if
// the cache is over its budget. REQUIRES: e's staging lock is held; the
// caller closes the victims after releasing it.
func (c *FileCache) add(e *cacheEntry) (vs [maxVictims]victim, nv int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.gen++
	if e.in {
		c.unlink(e)
	} else {
		e.in = true
		c.n++
	}
	c.pushFront(e)
	// Each pass over an entry either closes it or clears its used bit, so
	// the scan ends within two turns of the list. A head waiting for its
	// group commit is passed over in the first turn only.
	for spins := 2 * c.n; c.n > c.budget && nv < maxVictims && spins > 0; spins-- {
		v := c.head.prev
		c.unlink(v)
		if v == e || v.w.used.Swap(false) || (spins > c.n && v.w.syncing()) {
			c.pushFront(v) // second chance
			continue
		}
		v.in = false
		c.n--
		vs[nv] = victim{v.w, v.gen}
		nv++
	}
	return vs, nv
}

// remove takes e out of the cache: its log closed the file itself.
func (c *FileCache) remove(e *cacheEntry) {
	c.mu.Lock()
	if e.in {
		c.unlink(e)
		e.in = false
		c.n--
	}
	c.mu.Unlock()
}

func (c *FileCache) pushFront(e *cacheEntry) {
	e.prev, e.next = &c.head, c.head.next
	c.head.next.prev = e
	c.head.next = e
}

func (c *FileCache) unlink(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

// closeVictims closes what add picked. REQUIRES: no staging lock held.
func (c *FileCache) closeVictims(vs *[maxVictims]victim, nv int) {
	for i := range nv {
		if vs[i].w.evict(vs[i].gen) {
			c.evictions.Add(1)
		}
		vs[i] = victim{}
	}
}
