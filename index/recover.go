package index

import (
	"cmp"
	"path/filepath"
	"slices"

	"github.com/warrenmq/warren/segment"
)

// recover rebuilds one segment's state from its ack file.
func (x *Index) recover(r segment.Recovered) (*segState, error) {
	st := &segState{id: r.ID, total: r.Live, totalB: r.LiveBody}
	path := filepath.Join(x.dir, ackName(r.ID))
	ents, used, bad, err := readAckFile(path, r.ID)
	if err != nil {
		return nil, err
	}
	if bad > 0 {
		x.logger().Warn("index: skipping damaged ack entries; their messages will be redelivered", "segment", r.ID, "entries", bad)
	}
	rs := x.union(r.ID, ents)
	if r.Spans != nil {
		// The segment was scanned: its tail may have been cut, or records
		// padded over. Keep only runs that match records exactly.
		rs = x.check(r.ID, rs, r.Spans)
	} else {
		rs = slices.DeleteFunc(rs, func(e run) bool { return e.end > r.Used })
	}
	st.runs = rs
	for _, e := range rs {
		st.done += e.pcount
		st.doneB += uint64(e.pbody)
	}
	if st.done > st.total || st.doneB > st.totalB {
		x.logger().Warn("index: ack file counts more than the segment holds", "segment", r.ID, "acked", st.done, "records", st.total)
		st.done, st.doneB = min(st.done, st.total), min(st.doneB, st.totalB)
	}
	if used > 0 {
		st.af = newAckFile(path, r.ID)
		st.af.n = used
	}
	return st, nil
}

// union merges entries into disjoint runs. A later entry may cover an
// earlier one entirely (a run that grew); a partial overlap cannot come
// from a healthy file, so the second of the two is dropped.
func (x *Index) union(seg uint32, ents []run) runs {
	slices.SortFunc(ents, func(a, b run) int {
		if c := cmp.Compare(a.off, b.off); c != 0 {
			return c
		}
		return cmp.Compare(b.end, a.end) // longest first
	})
	var rs runs
	for _, e := range ents {
		if n := len(rs); n > 0 {
			last := rs[n-1]
			if last.contains(e) {
				continue
			}
			if e.off < last.end {
				x.logger().Warn("index: dropping overlapping ack entry", "segment", seg, "offset", e.off)
				continue
			}
			if e.off == last.end {
				rs[n-1].end = e.end
				rs[n-1].pcount += e.pcount
				rs[n-1].pbody += e.pbody
				continue
			}
		}
		rs = append(rs, e)
	}
	return rs
}

// check keeps the runs that start and end on record boundaries of a
// scanned segment and recounts their records from the scan.
func (x *Index) check(seg uint32, rs runs, spans []segment.Span) runs {
	out := rs[:0]
	for _, e := range rs {
		i, ok := slices.BinarySearchFunc(spans, e.off, func(s segment.Span, off uint32) int { return cmp.Compare(s.Off, off) })
		j := i
		for ok && j < len(spans) && spans[j].End < e.end {
			j++
		}
		if !ok || j == len(spans) || spans[j].End != e.end {
			x.logger().Warn("index: dropping ack entry that does not match the records", "segment", seg, "offset", e.off)
			continue
		}
		e.pcount, e.pbody = 0, 0
		for _, s := range spans[i : j+1] {
			if s.Live {
				e.pcount++
				e.pbody += s.Body
			}
		}
		if e.pcount > 0 {
			out = append(out, e)
		}
	}
	return out
}

// Retrack takes a segment's new description after segment.Log.Rescan found
// damage, or after the log retired it (TakeRetired): totals from the scan,
// done counts recounted from the runs, and acks past its end ignored from
// now on. It returns by how much the not-done count and bytes changed.
func (x *Index) Retrack(r segment.Recovered) (dCount int, dBytes int64) {
	st := x.find(r.ID)
	if st == nil {
		return 0, 0
	}
	before, beforeB := int64(st.total-st.done), int64(st.totalB-st.doneB)
	var done uint32
	var doneB uint64
	for _, e := range st.runs {
		i, _ := slices.BinarySearchFunc(r.Spans, e.off, func(s segment.Span, off uint32) int { return cmp.Compare(s.Off, off) })
		for ; i < len(r.Spans) && r.Spans[i].End <= e.end; i++ {
			if r.Spans[i].Live {
				done++
				doneB += uint64(r.Spans[i].Body)
			}
		}
	}
	st.total, st.totalB = r.Live, r.LiveBody
	st.limit = max(r.Used, segment.DataStart)
	st.done, st.doneB = min(done, st.total), min(doneB, st.totalB)
	after, afterB := int64(st.total-st.done), int64(st.totalB-st.doneB)
	x.ready += after - before
	x.readyB += afterB - beforeB
	return int(after - before), afterB - beforeB
}
