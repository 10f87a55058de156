package segment

// crash drops the log the way a killed process would: no footer, no trim,
// no sync, and staged records lost. What was written is in the page cache,
// as it would be after kill -9.
func (l *Log) crash() {
	l.w.drop()
	for _, s := range l.segs {
		l.unmapSeg(s)
	}
	l.head = nil
	l.closed = true
}

// headFD is the head's descriptor (reopened if the cache closed it).
func (l *Log) headFD() int {
	fd := -1
	_ = l.w.withFD(func(f int) error { fd = f; return nil })
	return fd
}
