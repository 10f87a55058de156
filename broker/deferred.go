package broker

// Deferred is work gathered while a lock is held, to run once it is
// released. Moving a message from one queue into another (dead lettering,
// alternate exchanges, expiry into a dead-letter exchange) is added to the
// first queue's list under its lock and runs after q.unlock has released
// it: a queue lock is never held while another queue's is taken, so two
// queues moving messages into each other cannot deadlock, and a queue may
// move a message into itself.
//
// The zero value is an empty list. It is not safe for concurrent use: the
// lock it is gathered under guards it.
type Deferred struct {
	fns []func()
}

// Add appends f to the list.
func (d *Deferred) Add(f func()) { d.fns = append(d.fns, f) }

// Len is the number of functions waiting.
func (d *Deferred) Len() int { return len(d.fns) }

// take empties the list and returns what it held.
func (d *Deferred) take() []func() {
	fns := d.fns
	d.fns = nil
	return fns
}

// runDeferred calls fns in the order they were added. REQUIRES: no queue lock held.
func runDeferred(fns []func()) {
	for i, f := range fns {
		fns[i] = nil
		f()
	}
}

// deferLocked adds f to q's deferred work. REQUIRES: q.mu held.
func (q *Queue) deferLocked(f func()) { q.deferred.Add(f) }

// unlock releases q.mu, then runs the work deferred while it was held.
// Every path that may defer work unlocks with it instead of q.mu.Unlock.
func (q *Queue) unlock() {
	if q.deferred.Len() == 0 {
		q.mu.Unlock()
		return
	}
	fns := q.deferred.take()
	q.mu.Unlock()
	runDeferred(fns)
}
