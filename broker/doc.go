// Package broker holds the state the AMQP protocol acts on: users, vhosts,
// exchanges, queues, consumers and the durable definitions. It never touches
// a socket: netio turns frames into calls on this package, acting as a
// Principal, and implements Deliverer to receive messages. Storage stays
// behind this package: netio sees Delivery, Ticket and Watermark only.
//
// Lock order (never take an earlier lock while holding a later one; the
// whole order, every lock included, is in docs/LOCKS.md):
//
//	Broker.mu → VHost.mu → Queue.mu → (netio) channel.mu → (netio) conn.outMu
//
// Two Queue.mu are never held at once: moving a message into another queue
// is deferred work that runs after the first queue's lock is released.
//
// Queue.mu guards the queue's store and its consumer list. Deliveries are made
// by whichever goroutine makes a message deliverable (a publisher's event loop,
// a consumer's ack, a requeue): there is no goroutine per queue, so a delivery
// costs no hand-off.
package broker
