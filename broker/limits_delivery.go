package broker

import "github.com/warrenmq/warren/frame"

// Quorum queues, with what one node can honour: declared durable only
// (RabbitMQ's errors for auto-delete, exclusive and non-durable), the
// arguments RabbitMQ refuses for them refused, and the delivery limit:
// a message that comes back unacked (nack or reject with requeue, a
// channel or connection gone) more than x-delivery-limit times (default
// 20, as RabbitMQ 4) is dead lettered with reason delivery_limit, or
// dropped without a dead-letter exchange. Redeliveries carry the
// x-delivery-count header, as RabbitMQ's quorum queues send it.
// Replication comes later: today a quorum queue is a classic queue on
// one node with these semantics.
//
// The count is in the Ticket (an in-flight or requeued message's handle),
// so it costs no memory for the backlog; a durable queue also journals it
// so that it survives a restart, as RabbitMQ's Raft log keeps it
// (limits_delivery_counts.go).

// defaultDeliveryLimit is RabbitMQ 4's default x-delivery-limit.
const defaultDeliveryLimit = 20

const maxReturns = 1<<16 - 1

func (q *Queue) quorum() bool { return q.cfg.queueType == "quorum" }

// deliveryLimitLocked is the effective limit. REQUIRES: q.mu held.
func (q *Queue) deliveryLimitLocked() int64 {
	if q.cfg.deliveryLimit >= 0 {
		return q.cfg.deliveryLimit
	}
	return defaultDeliveryLimit
}

// returnLocked takes back an in-flight message of a quorum queue: counted,
// then requeued or, past the limit, dead lettered. REQUIRES: q.mu held.
func (q *Queue) returnLocked(t Ticket) {
	if t.returns < maxReturns {
		t.returns++
	}
	if int64(t.returns) <= q.deliveryLimitLocked() {
		if q.counts != nil {
			q.counts.record(t.pos, t.returns)
		}
		q.st.requeue(t)
		return
	}
	q.discardTicketLocked(t, reasonDeliveryLimit)
}

// withDeliveryCountLocked returns d with the x-delivery-count header set
// to n, in a buffer of q's valid until the next call. REQUIRES: q.mu held.
func (q *Queue) withDeliveryCountLocked(d Delivery, n uint16) Delivery {
	p, err := frame.DecodeProperties(d.Props)
	if err != nil {
		return d
	}
	if p.Headers == nil {
		p.Headers = frame.Table{}
	}
	p.Headers["x-delivery-count"] = int64(n)
	q.propsBuf = frame.AppendProperties(q.propsBuf[:0], &p)
	d.Props = q.propsBuf
	return d
}

// validateQuorumDeclare refuses what RabbitMQ 3.10 refuses for a quorum
// queue, with its texts, in its order of checks.
func validateQuorumDeclare(o QueueDeclareOptions, vhost string) error {
	if t, _ := o.Args["x-queue-type"].(string); t != "quorum" {
		return nil
	}
	prop := ""
	switch {
	case o.AutoDelete:
		prop = "auto-delete"
	case o.Exclusive:
		prop = "exclusive-owner"
	case !o.Durable:
		prop = "non-durable"
	}
	if prop != "" {
		return frame.Errorf(frame.PreconditionFailed, "invalid property '%s' for queue '%s' in vhost '%s'", prop, o.Name, vhost)
	}
	for _, k := range []string{"x-max-priority", "x-queue-mode", "x-queue-version", "x-queue-master-locator"} {
		if _, ok := o.Args[k]; ok {
			return frame.Errorf(frame.PreconditionFailed, "invalid arg '%s' for queue '%s' in vhost '%s' of queue type rabbit_quorum_queue", k, o.Name, vhost)
		}
	}
	return nil
}
