package segment

// LogStats are a log's disk and mapping figures, for metrics.
type LogStats struct {
	Files       int   // segment files
	Bytes       int64 // their disk cost: sealed lengths plus the head's reservation
	MappedBytes int64 // bytes mapped for reading right now
}

// Stats reads the log's figures; the caller holds whatever serialises the
// log's other calls (the queue's lock).
func (l *Log) Stats() LogStats {
	st := LogStats{Files: len(l.segs)}
	for _, s := range l.segs {
		if s == l.head {
			st.Bytes += max(s.alloc, int64(s.used))
		} else {
			st.Bytes += s.size
		}
		st.MappedBytes += int64(len(s.data))
	}
	return st
}
