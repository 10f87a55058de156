package segment

// Append adds r at the end of the log and returns its position and size
// (the size an index needs to mark it done). A persistent record in a
// durable log with a Syncer also gets the generation that will cover it:
// it is on disk once Syncer.Done() >= gen. gen is 0 when there is nothing
// to wait for. A record that does not fit the rest of the head starts a new
// segment; one larger than a segment gets a segment of its own size.
//
// The record is staged in memory and reaches the file when the staging
// buffer fills, when the Syncer runs a round for it, or on Flush, seal and
// Close: a process crash loses staged records nobody was told are safe.
func (l *Log) Append(r *Record) (pos Pos, size uint32, gen uint64, err error) {
	if l.closed {
		return pos, 0, 0, ErrClosed
	}
	n := RecordSize(r)
	if len(r.Exchange) > 255 || len(r.RoutingKey) > 255 || n > maxSegmentSize-DataStart-footerSize {
		return pos, 0, 0, ErrTooLarge
	}
	h := l.head
	if h != nil && h.sf != nil {
		// A failed fdatasync may have lost written pages (the kernel drops
		// the error after reporting it once): refuse to claim more.
		if err := h.sf.Err(); err != nil {
			return pos, 0, 0, err
		}
	}
	if h == nil || int64(h.used)+n+footerSize > h.size {
		if h != nil {
			if err := l.seal(h, false); err != nil {
				return pos, 0, 0, err
			}
		}
		if h, err = l.create(max(l.opt.SegmentSize, DataStart+n+footerSize)); err != nil {
			return pos, 0, 0, err
		}
	}
	end := int64(h.used) + n
	if err := l.reserve(h, end); err != nil {
		return pos, 0, 0, err
	}
	staged, err := l.w.put(r, int(n))
	switch {
	case err != nil:
		return pos, 0, 0, err
	case !staged:
		if err := l.w.flush(); err != nil {
			return pos, 0, 0, err
		}
		if err := writeRecord(h.fd, int64(h.used), r, n); err != nil {
			return pos, 0, 0, err
		}
		if err := l.w.skip(n); err != nil {
			return pos, 0, 0, err
		}
	}
	pos = Pos{Seg: h.id, Off: h.used}
	h.used = uint32(end)
	h.count++
	if r.Flags&FlagPersistent != 0 {
		h.pcount++
		h.pbody += uint64(len(r.Body))
		if l.opt.Durable && l.opt.Syncer != nil {
			gen = l.opt.Syncer.mark(h.sf)
		}
	}
	return pos, uint32(n), gen, nil
}

// Flush writes staged records to the file: after it they survive a crash
// of the process (not of the machine; that is what the Syncer is for).
func (l *Log) Flush() error { return l.w.flush() }
