package broker

// Passing a message straight through a queue.
//
// A message that finds its queue with nothing ready and the next consumer
// in turn consuming without acknowledgements is only ever going to be
// written to that consumer: with no ack there is nothing to requeue, and a
// transient message does not outlive a restart. Storing it anyway cost
// half of the broker's work at 1 KiB in issue 19's profile (encode, CRC,
// pwrite into the segment: 0.6 of 1.9 µs a message), so such a message is
// delivered from the publisher's buffers and never stored, as RabbitMQ
// does for a message delivered to an autoack consumer of an empty queue.
// The one copy it gets is into the consumer's output.

// canPassLocked reports whether m may skip the store, given what
// publish's direct delivery asks (a consumer, no length limit, no TTL): a
// classic queue (or one that never held a message, whose store is not
// open yet) with no ready message to keep order with; m not persistent on
// a durable queue (the store is its promise to survive); no BCC header to
// strip, no deduplication cache and no on-disk delivery counts, which work
// on stored messages; plain round-robin consumers.
func (q *Queue) canPassLocked(m *Message) bool {
	switch q.st.(type) {
	case *classicStore, *unopenedStore:
	default:
		return false
	}
	return q.cfg.queueType == "classic" && !(m.Persistent && q.Durable) && !m.bcc &&
		q.dedup == nil && q.counts == nil && !q.cfg.singleActive && q.cgroups == nil &&
		q.st.readyCount() == 0
}

// passLocked delivers m to the next consumer in turn if that one consumes
// without acknowledgements and can take it now, and reports whether it
// did. Otherwise m is stored and dispatched as usual (a refused Reserve
// has already marked the consumer as waiting for credit).
func (q *Queue) passLocked(m *Message) bool {
	if q.next >= len(q.consumers) {
		q.next = 0
	}
	c := q.consumers[q.next]
	if !c.NoAck || !c.D.Reserve() {
		return false
	}
	q.next++
	q.Published.Add(1)
	q.Delivered.Add(1)
	c.D.Deliver(q, c, Ticket{}, Delivery{
		Exchange: m.Exchange, RoutingKey: m.RoutingKey, Props: m.Props, Body: m.Body,
		Timestamp: m.Timestamp, Persistent: m.Persistent,
	}, m.Origin)
	return true
}
