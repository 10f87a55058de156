package router

import "sync/atomic"

// keyTable maps the binding keys of a direct exchange (and the
// wildcard-free keys of a topic exchange) to their destinations. Unlike the
// rest of an exchange's snapshot it is updated in place: one writer at a
// time (under exchange.mu) and any number of lock-free readers.
//
// Why not copy-on-write: an exchange with 100,000 keys (a queue per user,
// each bound with its own key) would copy O(√n) slots per binding change,
// ~30 KB of garbage per queue.bind, which capped binds at a few thousand a
// second. Here a change writes one slot: O(1), and nothing to collect.
//
// How readers stay safe without locks: it is an open-addressing table with
// linear probing, and a slot, once given a key, keeps it for the life of
// that table version. A writer fills a free slot's key and value before it
// publishes the slot's hash (atomically), and a reader reads the key only
// after it has seen the hash; deleting stores a nil value and leaves the
// key as a tombstone. Growing or shrinking builds a new version and swaps
// the pointer; a reader still on the old one sees it as it was.
//
// Destination sets are immutable (dests), so a reader sees each key's
// whole set before or after a change, never half of one. What a reader no
// longer gets is one instant for all keys and the rest of the snapshot at
// once; Route does not need it (see route.go).
type keyTable[Q comparable] struct {
	t atomic.Pointer[keySlots[Q]]

	// writer-only, under exchange.mu
	live int // keys with a destination set
	used int // slots given a key: live plus tombstones
}

type keySlots[Q comparable] struct {
	mask  uint64
	slots []keySlot[Q]
}

type keySlot[Q comparable] struct {
	h   atomic.Uint64 // keyHash of key once the slot is published; 0 while free
	key string
	d   atomic.Pointer[dests[Q]] // nil: the key was deleted (a tombstone)
}

// Load factor bounds: grow past 2/3 full (short probe sequences, and every
// probe ends at a free slot), rebuild to at most 1/2 (so growing doubles),
// shrink below 1/8.
const minKeySlots = 8

// slotIndex picks the home slot; bit 0 of a keyHash is always set, so the
// index starts above it.
func slotIndex(h, mask uint64) uint64 { return (h >> 1) & mask }

// get returns the destinations bound under key, or nil.
func (kt *keyTable[Q]) get(key []byte) *dests[Q] {
	t := kt.t.Load()
	if t == nil {
		return nil
	}
	h := keyHash(key)
	for i := slotIndex(h, t.mask); ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		sh := s.h.Load()
		if sh == 0 {
			return nil
		}
		if sh == h && s.key == string(key) {
			return s.d.Load()
		}
	}
}

// getString is get for the writer, which has the key as a string.
func (kt *keyTable[Q]) getString(key string) *dests[Q] {
	if s := kt.find(keyHashString(key), key); s != nil {
		return s.d.Load()
	}
	return nil
}

func (kt *keyTable[Q]) len() int { return kt.live }

// find returns key's slot in the current version, or nil.
func (kt *keyTable[Q]) find(h uint64, key string) *keySlot[Q] {
	t := kt.t.Load()
	if t == nil {
		return nil
	}
	for i := slotIndex(h, t.mask); ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		sh := s.h.Load()
		if sh == 0 {
			return nil
		}
		if sh == h && s.key == key {
			return s
		}
	}
}

// set binds key to d, or deletes key when d is nil. exchange.mu must be
// held.
func (kt *keyTable[Q]) set(key string, d *dests[Q]) {
	h := keyHashString(key)
	if s := kt.find(h, key); s != nil {
		old := s.d.Swap(d)
		switch {
		case old == nil && d != nil:
			kt.live++
		case old != nil && d == nil:
			kt.live--
			kt.maybeShrink()
		}
		return
	}
	if d == nil {
		return
	}
	t := kt.t.Load()
	if t == nil || 3*(kt.used+1) > 2*len(t.slots) {
		t = kt.rebuild(kt.live + 1)
	}
	insertSlot(t, h, key, d)
	kt.used++
	kt.live++
}

// insertSlot fills the first free slot on key's probe sequence; key must
// not be in t.
func insertSlot[Q comparable](t *keySlots[Q], h uint64, key string, d *dests[Q]) {
	i := slotIndex(h, t.mask)
	for t.slots[i].h.Load() != 0 {
		i = (i + 1) & t.mask
	}
	s := &t.slots[i]
	s.key = key
	s.d.Store(d)
	s.h.Store(h) // publishes the slot: key and d are set before
}

func (kt *keyTable[Q]) maybeShrink() {
	if t := kt.t.Load(); len(t.slots) > minKeySlots && 8*kt.live < len(t.slots) {
		kt.rebuild(kt.live)
	}
}

// rebuild publishes a new version sized for room keys holding the live
// keys of the current one (tombstones are dropped) and returns it. O(n),
// but only after Θ(n) changes since the last rebuild.
func (kt *keyTable[Q]) rebuild(room int) *keySlots[Q] {
	if room == 0 {
		kt.t.Store(nil)
		kt.used = 0
		return nil
	}
	size := minKeySlots
	for size < 2*room {
		size <<= 1
	}
	nt := &keySlots[Q]{mask: uint64(size - 1), slots: make([]keySlot[Q], size)}
	if old := kt.t.Load(); old != nil {
		for i := range old.slots {
			s := &old.slots[i]
			if d := s.d.Load(); d != nil {
				insertSlot(nt, s.h.Load(), s.key, d)
			}
		}
	}
	kt.t.Store(nt)
	kt.used = kt.live
	return nt
}

// reset empties the table (RemoveExchange). exchange.mu must be held.
func (kt *keyTable[Q]) reset() {
	kt.t.Store(nil)
	kt.live, kt.used = 0, 0
}

// each calls f for every key with destinations, in no particular order.
// exchange.mu must be held.
func (kt *keyTable[Q]) each(f func(string, *dests[Q])) {
	if t := kt.t.Load(); t != nil {
		for i := range t.slots {
			if d := t.slots[i].d.Load(); d != nil {
				f(t.slots[i].key, d)
			}
		}
	}
}
