package segment

// crash drops the log the way a killed process would: no footer, no trim,
// no sync, and staged records lost. What was written is in the page cache,
// as it would be after kill -9.
func (l *Log) crash() {
	l.w.attach(-1, nil, 0)
	for _, s := range l.segs {
		l.unmapSeg(s)
		s.closeFile()
	}
	l.head = nil
	l.closed = true
}
