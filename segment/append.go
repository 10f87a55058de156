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
//
// A head whose write or fdatasync failed takes no more records: it is
// retired (retire.go) and the record goes to a fresh segment, so a log
// writes again as soon as the disk has room, without a restart.
func (l *Log) Append(r *Record) (pos Pos, size uint32, gen uint64, err error) {
	if l.closed {
		return pos, 0, 0, ErrClosed
	}
	n := RecordSize(r)
	if len(r.Exchange) > 255 || len(r.RoutingKey) > 255 || n > maxSegmentSize-DataStart-footerSize {
		return pos, 0, 0, ErrTooLarge
	}
	pos, gen, err = l.append(r, n)
	if err != nil && l.head != nil && l.w.bad.Load() {
		// The head failed under this very append (its buffer's write):
		// once more, in a fresh segment.
		pos, gen, err = l.append(r, n)
	}
	if err != nil {
		return pos, 0, 0, err
	}
	return pos, uint32(n), gen, nil
}

func (l *Log) append(r *Record, n int64) (pos Pos, gen uint64, err error) {
	h := l.head
	if h != nil && l.w.bad.Load() {
		l.retire(h)
		h = nil
	}
	if h == nil || int64(h.used)+n+footerSize > h.size {
		if h != nil {
			if err := l.seal(h, false); err != nil {
				return pos, 0, err
			}
		}
		if h, err = l.create(max(l.opt.SegmentSize, DataStart+n+footerSize)); err != nil {
			return pos, 0, err
		}
	}
	end := int64(h.used) + n
	if err := l.reserve(h, end); err != nil {
		return pos, 0, err
	}
	var sy *Syncer
	if r.Flags&FlagPersistent != 0 && l.opt.Durable {
		sy = l.opt.Syncer
	}
	staged, gen, err := l.w.put(r, int(n), sy)
	if err == nil && !staged {
		gen, err = l.w.putDirect(r, n, sy)
	}
	if err != nil {
		return pos, 0, err
	}
	pos = Pos{Seg: h.id, Off: h.used}
	h.used = uint32(end)
	h.count++
	if r.Flags&FlagPersistent != 0 {
		h.pcount++
		h.pbody += uint64(len(r.Body))
	}
	return pos, gen, nil
}

// Flush writes staged records to the file: after it they survive a crash
// of the process (not of the machine; that is what the Syncer is for).
func (l *Log) Flush() error { return l.w.flush() }
