package segment

import "golang.org/x/sys/unix"

// Retiring a failed head.
//
// A write or fdatasync that fails (ENOSPC on a file system that cannot
// reserve blocks, EIO) used to make the head refuse every append until a
// restart. Now the next append retires it: the staged records that never
// reached the file are dropped (a persistent one's generation was reported
// failed, so its publisher got a nack), the segment is cut in memory to
// what was written, and appends go on in a fresh segment. Nothing that
// was confirmed is lost: a confirmed record was written and synced, and
// stays readable in the retired segment until it is done.
//
// The retired segment keeps no footer (the failure may persist); after a
// restart it is scanned like any unsealed head. Its records are counted
// again from a scan of the file, and TakeRetired hands the result to the
// index, as Rescan does after damage.

// retire takes h out of service as described above.
func (l *Log) retire(h *seg) {
	cause := l.w.failed()
	written := l.w.drop()
	l.unmapSeg(h)
	l.head = nil
	cut := uint32(max(min(written, int64(h.used)), DataStart))
	lost := h.used - cut
	h.used = cut
	r := Recovered{ID: h.id}
	err := withFile(l.path(h.id), unix.O_RDONLY, func(fd int) error {
		data := make([]byte, cut)
		if err := preadFull(fd, data, 0); err != nil {
			return err
		}
		res := scan(data, cut, h.recovered, l.opt.Durable)
		h.used = res.end // only damage stops a scan of written data short
		r.Used, r.Live, r.LiveBody, r.Spans = res.end, res.live, res.lbody, res.spans
		if r.Spans == nil {
			r.Spans = []Span{}
		}
		return nil
	})
	l.logger().Warn("segment: write to segment failed; retiring it, appends go on in a new segment",
		"segment", h.id, "err", cause, "unwritten_bytes", lost)
	if err != nil {
		l.logger().Error("segment: cannot read back retired segment", "segment", h.id, "err", err)
		return
	}
	l.retired = append(l.retired, r)
}

// TakeRetired returns the segments retired since the last call, each as a
// scan found what was written: the records past the failure are gone.
func (l *Log) TakeRetired() []Recovered {
	r := l.retired
	l.retired = nil
	return r
}

// Retired reports whether TakeRetired has something.
func (l *Log) Retired() bool { return len(l.retired) > 0 }
