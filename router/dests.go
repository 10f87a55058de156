package router

import "slices"

// dest is the far end of a binding: a queue, or an exchange when x != nil.
type dest[Q comparable] struct {
	q Q
	x *exchange[Q]
}

// dests is the immutable, duplicate-free set of destinations bound under one
// key (direct, topic) or to a whole exchange (fanout). Keeping it
// duplicate-free at bind time means a direct or fanout Route is a plain
// append with no dedupe work at all.
type dests[Q comparable] struct {
	qs  []Q
	qid []int32 // exchange-local id of qs[i]; indexes the per-Route seen stamps
	xs  []*exchange[Q]
}

func (d *dests[Q]) empty() bool { return d == nil || (len(d.qs) == 0 && len(d.xs) == 0) }

// with returns d plus t. id is t's exchange-local queue id (unused for
// exchanges). The caller guarantees t is not in d yet.
func (d *dests[Q]) with(t dest[Q], id int32) *dests[Q] {
	out := &dests[Q]{}
	if d != nil {
		*out = *d
	}
	if t.x != nil {
		out.xs = append(slices.Clip(out.xs), t.x)
	} else {
		out.qs = append(slices.Clip(out.qs), t.q)
		out.qid = append(slices.Clip(out.qid), id)
	}
	return out
}

// without returns d minus t, or nil when nothing is left.
func (d *dests[Q]) without(t dest[Q]) *dests[Q] {
	if d == nil {
		return nil
	}
	out := *d
	if t.x != nil {
		i := slices.Index(d.xs, t.x)
		if i < 0 {
			return d
		}
		out.xs = slices.Delete(slices.Clone(d.xs), i, i+1)
	} else {
		i := slices.Index(d.qs, t.q)
		if i < 0 {
			return d
		}
		out.qs = slices.Delete(slices.Clone(d.qs), i, i+1)
		out.qid = slices.Delete(slices.Clone(d.qid), i, i+1)
	}
	if out.empty() {
		return nil
	}
	return &out
}
