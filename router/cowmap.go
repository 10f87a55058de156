package router

import (
	"hash/maphash"
	"math/bits"
	"slices"
)

// cowMap is an immutable hash map from string to V, built for the topic
// trie's copy-on-write nodes and its NFA. (An exchange's exact keys live in
// a keyTable, updated in place.)
//
// Why not a Go map: cloning a Go map on every binding change makes binding N
// keys O(N²), and a Go map re-hashes the key on every lookup, while the NFA
// looks one word up in many trie nodes per step. cowMap therefore
//   - splits the keys over a power-of-two number of buckets (about √n), each
//     a small open-addressing table; an update clones one bucket and the
//     bucket slice and shares the rest with the previous version, O(√n);
//   - takes the key's hash from the caller (lookup), so a topic step hashes
//     each routing-key word once, not once per active trie node.
//
// It is a value (embedded in trie nodes and snapshots, saving a pointer hop
// per lookup); the zero value is the empty map. Updates return a new value
// and never write to memory reachable from the old one.
type cowMap[V any] struct {
	n       int
	buckets [][]cowSlot[V] // len is a power of two; each bucket is a power of two, at most half full, or empty
}

type cowSlot[V any] struct {
	h   uint64 // keyHash of key; 0 marks a free slot
	key string
	val V
}

// cowSeed is shared by every cowMap: hashes computed once are valid for
// every map, and for every version of one.
var cowSeed = maphash.MakeSeed()

// keyHash hashes a key for lookup. Bit 0 is forced on so that 0 can mark
// free slots. The low bits pick the bucket, the high bits the slot, so the
// two choices are independent.
func keyHash(b []byte) uint64 { return maphash.Bytes(cowSeed, b) | 1 }

func keyHashString(s string) uint64 { return maphash.String(cowSeed, s) | 1 }

// lookup finds key, whose keyHash is h.
func (m *cowMap[V]) lookup(h uint64, key []byte) (V, bool) {
	if len(m.buckets) > 0 {
		if b := m.buckets[h&uint64(len(m.buckets)-1)]; len(b) > 0 {
			mask := uint64(len(b) - 1)
			for i := (h >> 32) & mask; ; i = (i + 1) & mask {
				s := &b[i]
				if s.h == h && s.key == string(key) {
					return s.val, true
				}
				if s.h == 0 {
					break
				}
			}
		}
	}
	var zero V
	return zero, false
}

func (m *cowMap[V]) get(key []byte) (V, bool) {
	if m.n == 0 {
		var zero V
		return zero, false
	}
	return m.lookup(keyHash(key), key)
}

func (m *cowMap[V]) getString(key string) (V, bool) {
	if m.n > 0 {
		h := keyHashString(key)
		if b := m.buckets[h&uint64(len(m.buckets)-1)]; len(b) > 0 {
			mask := uint64(len(b) - 1)
			for i := (h >> 32) & mask; ; i = (i + 1) & mask {
				s := &b[i]
				if s.h == h && s.key == key {
					return s.val, true
				}
				if s.h == 0 {
					break
				}
			}
		}
	}
	var zero V
	return zero, false
}

func (m *cowMap[V]) len() int { return m.n }

// with returns a map that has key set to v.
func (m cowMap[V]) with(key string, v V) cowMap[V] {
	h := keyHashString(key)
	if m.n == 0 {
		return cowMap[V]{n: 1, buckets: [][]cowSlot[V]{newBucket([]cowSlot[V]{{h, key, v}})}}
	}
	i := h & uint64(len(m.buckets)-1)
	entries := liveSlots(m.buckets[i], 1)
	n := m.n
	if j := slices.IndexFunc(entries, func(e cowSlot[V]) bool { return e.h == h && e.key == key }); j >= 0 {
		entries[j].val = v
	} else {
		entries = append(entries, cowSlot[V]{h, key, v})
		n++
	}
	out := cowMap[V]{n: n, buckets: slices.Clone(m.buckets)}
	out.buckets[i] = newBucket(entries)
	if want := bucketsFor(n); want > len(out.buckets) {
		return out.resized(want)
	}
	return out
}

// without returns a map without key.
func (m cowMap[V]) without(key string) cowMap[V] {
	if _, ok := m.getString(key); !ok {
		return m
	}
	if m.n == 1 {
		return cowMap[V]{}
	}
	h := keyHashString(key)
	i := h & uint64(len(m.buckets)-1)
	entries := slices.DeleteFunc(liveSlots(m.buckets[i], 0), func(e cowSlot[V]) bool { return e.h == h && e.key == key })
	out := cowMap[V]{n: m.n - 1, buckets: slices.Clone(m.buckets)}
	out.buckets[i] = newBucket(entries)
	// Shrink with hysteresis (bucketsFor(n) must fall to a quarter) so
	// alternating bind/unbind at a boundary does not rehash every time.
	if want := bucketsFor(out.n); want*4 <= len(out.buckets) {
		return out.resized(want)
	}
	return out
}

// bucketsFor is the bucket count for n entries: one up to 64 entries, then
// about √n, which balances the two costs of an update (cloning a bucket of
// n/B entries and the bucket slice of B headers).
func bucketsFor(n int) int {
	if n <= 64 {
		return 1
	}
	return 1 << ((bits.Len(uint(n)) + 1) / 2) // ≥ √n, a power of two
}

// resized rehashes every entry into nb buckets: O(n), but only after Θ(n)
// updates since the last resize, so amortised O(1) per update.
func (m cowMap[V]) resized(nb int) cowMap[V] {
	groups := make([][]cowSlot[V], nb)
	for _, b := range m.buckets {
		for _, s := range b {
			if s.h != 0 {
				i := s.h & uint64(nb-1)
				groups[i] = append(groups[i], s)
			}
		}
	}
	out := cowMap[V]{n: m.n, buckets: make([][]cowSlot[V], nb)}
	for i, g := range groups {
		out.buckets[i] = newBucket(g)
	}
	return out
}

// liveSlots copies a bucket's occupied slots into a new slice with room for
// extra more.
func liveSlots[V any](b []cowSlot[V], extra int) []cowSlot[V] {
	out := make([]cowSlot[V], 0, len(b)/2+extra)
	for _, s := range b {
		if s.h != 0 {
			out = append(out, s)
		}
	}
	return out
}

// newBucket builds an open-addressing table for entries, at most half full
// so probe sequences stay short and always end at a free slot.
func newBucket[V any](entries []cowSlot[V]) []cowSlot[V] {
	if len(entries) == 0 {
		return nil
	}
	size := 2
	for size < 2*len(entries) {
		size <<= 1
	}
	b := make([]cowSlot[V], size)
	mask := uint64(size - 1)
	for _, e := range entries {
		i := (e.h >> 32) & mask
		for b[i].h != 0 {
			i = (i + 1) & mask
		}
		b[i] = e
	}
	return b
}

// each calls f for every entry, in no particular order.
func (m *cowMap[V]) each(f func(string, V)) {
	for _, b := range m.buckets {
		for _, s := range b {
			if s.h != 0 {
				f(s.key, s.val)
			}
		}
	}
}
