package fast

import "sync/atomic"

// confirmTracker follows publisher confirms for at most window outstanding
// tags. Only the connection's reader goroutine calls settle; the publisher
// reads Confirmed and waits on wake.
type confirmTracker struct {
	done      []bool // done[tag&mask]: settled out of order, above base
	mask      uint64
	base      uint64 // lowest unsettled tag
	confirmed atomic.Uint64
	nacked    atomic.Uint64
	wake      chan struct{}
}

func newConfirmTracker(window int) *confirmTracker {
	n := 1
	for n < 2*window {
		n <<= 1
	}
	return &confirmTracker{done: make([]bool, n), mask: uint64(n - 1), base: 1, wake: make(chan struct{}, 1)}
}

// settle records basic.ack or basic.nack for tag (and all below it when
// multiple) and wakes the publisher.
func (t *confirmTracker) settle(tag uint64, multiple, nack bool) {
	if tag < t.base {
		return
	}
	var settled uint64
	if multiple {
		for t.base <= tag {
			if !t.done[t.base&t.mask] {
				settled++
			}
			t.done[t.base&t.mask] = false
			t.base++
		}
	} else if !t.done[tag&t.mask] {
		t.done[tag&t.mask] = true
		settled = 1
	}
	for t.done[t.base&t.mask] {
		t.done[t.base&t.mask] = false
		t.base++
	}
	if nack {
		t.nacked.Add(settled)
	}
	t.confirmed.Store(t.base - 1)
	select {
	case t.wake <- struct{}{}:
	default:
	}
}
