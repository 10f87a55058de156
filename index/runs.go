package index

import "slices"

// run is a stretch [off, end) of a segment whose records are all done.
// pcount and pbody count the persistent records in it: the only ones an
// ack file speaks for, since a restart drops the transient ones anyway.
//
// A queue acks roughly in order, so the done records of a segment form a
// few long runs: memory per segment is O(gaps), not O(records).
type run struct {
	off, end      uint32
	pcount, pbody uint32
}

func (r run) contains(o run) bool { return r.off <= o.off && o.end <= r.end }

// runs is a sorted list of disjoint, non-adjacent runs.
type runs []run

// search returns the index of the first run starting after off.
func (rs runs) search(off uint32) int {
	// The common case is an ack at or past the last run (acks come in
	// order), so look there before bisecting.
	if n := len(rs); n == 0 || rs[n-1].off <= off {
		return n
	}
	i, _ := slices.BinarySearchFunc(rs, off, func(r run, off uint32) int {
		if r.off <= off {
			return -1
		}
		return 1
	})
	return i
}

// find returns the run holding off, if any.
func (rs runs) find(off uint32) (run, bool) {
	i := rs.search(off)
	if i > 0 && rs[i-1].end > off {
		return rs[i-1], true
	}
	return run{}, false
}

// add marks r done, merging it with adjacent runs, and returns the index of
// the run now holding it. ok is false if r overlaps a run: already done.
func (rs *runs) add(r run) (int, bool) {
	s := *rs
	i := s.search(r.off)
	if (i > 0 && s[i-1].end > r.off) || (i < len(s) && r.end > s[i].off) {
		return 0, false
	}
	joinPrev := i > 0 && s[i-1].end == r.off
	joinNext := i < len(s) && s[i].off == r.end
	switch {
	case joinPrev && joinNext:
		p := &s[i-1]
		p.end = s[i].end
		p.pcount += r.pcount + s[i].pcount
		p.pbody += r.pbody + s[i].pbody
		*rs = slices.Delete(s, i, i+1)
		return i - 1, true
	case joinPrev:
		p := &s[i-1]
		p.end = r.end
		p.pcount += r.pcount
		p.pbody += r.pbody
		return i - 1, true
	case joinNext:
		n := &s[i]
		n.off = r.off
		n.pcount += r.pcount
		n.pbody += r.pbody
		return i, true
	}
	*rs = slices.Insert(s, i, r)
	return i, true
}
