package segment

// Span is one record (or one stretch of padding) found by a scan.
type Span struct {
	Off, End uint32 // [Off, End) in the segment
	Body     uint32 // body length
	Live     bool   // counts as a message: not padding, not a dropped transient
}

// scanResult is what a checksum scan of a segment's data learnt.
type scanResult struct {
	end    uint32 // end of the valid data: the torn tail starts here
	count  uint32
	pcount uint32
	pbody  uint64
	live   uint32 // records a reader will be handed (see Span.Live)
	lbody  uint64
	spans  []Span
	gaps   []gap // unreadable stretches before end, to be covered with padding
	torn   bool  // bytes past end were not zeros: a record was cut short
}

type gap struct{ off, end uint32 }

// scan checks every record of data[DataStart:limit] against its checksum.
// A bad record followed by good ones is a gap; a bad record with nothing
// good after it is the torn tail. With dropTransient, records without
// FlagPersistent are not live (a durable log after a restart). Without
// verify (a non-durable log, whose records carry no checksum: see
// decodeCRC) only a record's framing is checked.
func scan(data []byte, limit uint32, dropTransient, verify bool) scanResult {
	var r scanResult
	off := uint32(DataStart)
	for off < limit {
		rec, n, err := decodeCRC(data[off:limit], verify)
		if err == nil {
			end := off + uint32(n)
			if rec.Flags&flagPadding != 0 {
				r.spans = append(r.spans, Span{Off: off, End: end})
				off = end
				continue
			}
			body := uint32(len(rec.Body))
			r.count++
			if rec.Flags&FlagPersistent != 0 {
				r.pcount++
				r.pbody += uint64(body)
			}
			live := !dropTransient || rec.Flags&FlagPersistent != 0
			if live {
				r.live++
				r.lbody += uint64(body)
			}
			r.spans = append(r.spans, Span{Off: off, End: end, Body: body, Live: live})
			off = end
			continue
		}
		// Hunt for the next good record. A record is at least HeaderSize
		// long, so the search starts there.
		next, ok := resync(data, off+HeaderSize, limit, verify)
		if !ok {
			r.torn = err != errEnd || !allZero(data[off:limit])
			break
		}
		r.gaps = append(r.gaps, gap{off, next})
		r.spans = append(r.spans, Span{Off: off, End: next})
		off = next
	}
	r.end = off
	return r
}

// resync returns the first offset at or after from where a record with a
// good checksum (without verify: a well-framed record) starts.
func resync(data []byte, from, limit uint32, verify bool) (uint32, bool) {
	for o := uint32(alignUp(int64(from))); int64(o)+HeaderSize <= int64(limit); o += recordAlign {
		b := data[o:limit]
		if b[0]|b[1]|b[2]|b[3] == 0 || b[8] != recordVersion {
			continue // cheap rejects first: zero fill is the common case
		}
		if _, _, err := decodeCRC(b, verify); err == nil {
			return o, true
		}
	}
	return 0, false
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
