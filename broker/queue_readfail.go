package broker

import (
	"errors"
	"time"

	"github.com/warrenmq/warren/frame"
	"github.com/warrenmq/warren/segment"
)

// A read the store cannot do now (the kernel refused a mapping at
// vm.max_map_count: segment.ErrMapLimit; no file descriptor left) leaves
// the message ready where it was. The consumer that reserved credit for
// it gets the credit back (before, a consumer at its prefetch limit was
// left waiting for an ack that could not come) and the queue tries again
// after readRetryDelay; basic.get answers with 541 INTERNAL_ERROR instead
// of a get-empty that would say the queue has nothing.
const readRetryDelay = 250 * time.Millisecond

// unreserver is a Deliverer that can give back credit it reserved for a
// delivery that did not happen (netio's consumers can).
type unreserver interface{ Unreserve() }

// readFailer is a store that remembers why its last next found nothing
// although messages were ready.
type readFailer interface{ takeReadFailure() error }

// readFailedLocked handles a next that found nothing for c (nil for
// basic.get), which had reserved credit. It returns the read's error, or
// nil when the store gave none (damage already logged by the store).
func (q *Queue) readFailedLocked(c *Consumer) error {
	if c != nil {
		if u, ok := c.D.(unreserver); ok {
			u.Unreserve()
		}
	}
	var err error
	if rf, ok := q.st.(readFailer); ok {
		err = rf.takeReadFailure()
	}
	if err == nil {
		logStoreInconsistent(q)
		return nil
	}
	faultRead.report(q.Name, err)
	if !q.readRetry && q.vhost != nil {
		q.readRetry = true
		q.vhost.b.Timer().After(readRetryDelay, func() {
			q.mu.Lock()
			q.readRetry = false
			q.mu.Unlock()
			q.Dispatch()
		})
	}
	return err
}

// getFailure is basic.get's error for a read that failed.
func getFailure(q *Queue, err error) error {
	if errors.Is(err, segment.ErrMapLimit) {
		return frame.Errorf(frame.InternalError, "cannot read a message of queue '%s': the process's memory mappings are at the kernel's limit (vm.max_map_count); try again later", q.Name)
	}
	return frame.Errorf(frame.InternalError, "cannot read a message of queue '%s': %v", q.Name, err)
}
