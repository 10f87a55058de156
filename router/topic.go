package router

import (
	"bytes"
	"strings"
)

// Topic routing, RabbitMQ semantics (rabbit_db_topic_exchange:split_topic_key):
//   - a key is split on '.'; "" has zero words, "a..b" is a,"",b and "a." is
//     a,"". Empty words are ordinary words.
//   - in a binding key, a word that is exactly "*" matches one word (an empty
//     one too) and a word that is exactly "#" matches zero or more words, as
//     often and wherever it appears. "a*" or "#x" are literal words.
//
// Wildcard-free binding keys never enter the trie: the snapshot's exact-key
// map answers them with one hash lookup. The trie holds only keys with at
// least one wildcard, so it stays small even with many literal bindings.

// tnode is one trie node. Nodes are immutable once published; a binding
// change path-copies from the root to the node it touches (trieUpdate), so a
// snapshot shares every untouched subtree with its predecessor.
type tnode[Q comparable] struct {
	id     int32 // unique within one snapshot; indexes the per-step seen stamps
	isHash bool  // reached by a '#' edge: stays active on any word (the self-loop)
	lit    cowMap[*tnode[Q]]
	star   *tnode[Q]
	hash   *tnode[Q]
	d      *dests[Q] // destinations whose binding key ends here
}

func (n *tnode[Q]) empty() bool {
	return n.lit.n == 0 && n.star == nil && n.hash == nil && n.d == nil
}

// topicWords splits a binding key into words ("" is zero words).
func topicWords(key string) []string {
	if key == "" {
		return nil
	}
	return strings.Split(key, ".")
}

func hasWildcard(words []string) bool {
	for _, w := range words {
		if w == "*" || w == "#" {
			return true
		}
	}
	return false
}

// idAlloc hands out small dense ids (trie nodes, queues within an exchange)
// and recycles freed ones, so the per-Route stamp arrays indexed by id stay
// as small as the live structure rather than growing with churn.
type idAlloc struct {
	next int32
	free []int32
}

func (a *idAlloc) get() int32 {
	if n := len(a.free); n > 0 {
		id := a.free[n-1]
		a.free = a.free[:n-1]
		return id
	}
	a.next++
	return a.next - 1
}

func (a *idAlloc) put(id int32) { a.free = append(a.free, id) }

// trieUpdate returns a copy of the trie rooted at n with f applied to the
// destination set at the end of words, creating nodes on the way and pruning
// those left empty. A copied node keeps its id: the original is not part of
// the new snapshot, so ids stay unique within every snapshot.
func trieUpdate[Q comparable](n *tnode[Q], words []string, isHash bool, ids *idAlloc, f func(*dests[Q]) *dests[Q]) *tnode[Q] {
	var c tnode[Q]
	if n != nil {
		c = *n
	} else {
		c.id, c.isHash = ids.get(), isHash
	}
	if len(words) == 0 {
		c.d = f(c.d)
	} else {
		switch w, rest := words[0], words[1:]; w {
		case "*":
			c.star = trieUpdate(c.star, rest, false, ids, f)
		case "#":
			c.hash = trieUpdate(c.hash, rest, true, ids, f)
		default:
			child, _ := c.lit.getString(w)
			if nc := trieUpdate(child, rest, false, ids, f); nc != nil {
				c.lit = c.lit.with(w, nc)
			} else {
				c.lit = c.lit.without(w)
			}
		}
	}
	if c.empty() {
		ids.put(c.id)
		return nil
	}
	return &c
}

// matchTopic runs the trie as an NFA over the words of key and leaves the
// nodes active after the last word, whose destinations match, in sc.cur. Each step visits every active node once (deduplicated by
// generation stamps), so patterns like "#.#.#" cost O(words × live states)
// instead of the exponential blow-up of naive backtracking over '#'.
func (sc *scratch[Q]) matchTopic(root *tnode[Q], maxID int32, key []byte) {
	if len(sc.stamp) < int(maxID) {
		sc.stamp = make([]uint32, maxID+maxID/4)
		sc.gen = 0
	}
	sc.step()
	cur := sc.closure(sc.cur[:0], root)
	// A non-empty key has one more word than it has dots ("a." is "a", "").
	for more := len(key) > 0; more && len(cur) > 0; {
		i := bytes.IndexByte(key, '.')
		w := key
		if i >= 0 {
			w = key[:i]
		}
		sc.step()
		next := sc.next[:0]
		var h uint64 // the word's hash, computed once for all active nodes
		for _, n := range cur {
			if n.lit.n > 0 {
				if h == 0 {
					h = keyHash(w)
				}
				if c, ok := n.lit.lookup(h, w); ok {
					next = sc.closure(next, c)
				}
			}
			if n.star != nil {
				next = sc.closure(next, n.star)
			}
			if n.isHash {
				next = sc.closure(next, n)
			}
		}
		sc.next, cur = cur, next
		if more = i >= 0; more {
			key = key[i+1:]
		}
	}
	sc.cur = cur
}

// closure adds n and the chain of '#' children below it (a '#' may match
// zero words, so reaching n also reaches n.hash, n.hash.hash, ...).
func (sc *scratch[Q]) closure(set []*tnode[Q], n *tnode[Q]) []*tnode[Q] {
	for ; n != nil && sc.stamp[n.id] != sc.gen; n = n.hash {
		sc.stamp[n.id] = sc.gen
		set = append(set, n)
	}
	return set
}

// step starts a new generation of node stamps, clearing them on wrap-around.
func (sc *scratch[Q]) step() {
	sc.gen++
	if sc.gen == 0 {
		clear(sc.stamp)
		sc.gen = 1
	}
}
