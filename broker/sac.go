package broker

import "github.com/warrenmq/warren/frame"

// Single active consumer (x-single-active-consumer): of a queue's
// consumers only the first subscribed receives messages; the others wait
// in subscription order and the next takes over when it cancels or its
// channel or connection goes (whose unacked messages the channel requeues,
// as for any consumer). RabbitMQ 3.10 ignores consumer priorities here,
// and refuses exclusive consumers.

// checkSingleActiveConsumeLocked refuses what RabbitMQ 3.10 refuses on a
// single-active-consumer queue: an exclusive basic.consume, even as the
// only consumer.
func (q *Queue) checkSingleActiveConsumeLocked(c *Consumer) error {
	if q.cfg.singleActive && c.Exclusive {
		return frame.Errorf(frame.AccessRefused, "queue '%s' in vhost '%s' in exclusive use", q.Name, q.vhost.Name)
	}
	return nil
}

// dispatchSingleActiveLocked is dispatchLocked on a single-active-consumer
// queue: everything goes to the active consumer, as far as its credit goes.
func (q *Queue) dispatchSingleActiveLocked(origin any) {
	c := q.consumers[0]
	for q.st.readyCount() > 0 {
		if q.exp != nil && q.expireBeforeDeliveryLocked() {
			return
		}
		if !c.D.Reserve() {
			return
		}
		if !q.deliverReservedLocked(c, origin) {
			return
		}
	}
}
