package broker

import "github.com/warrenmq/warren/segment"

// store is where a queue keeps its messages: exactly what Queue calls, so a
// queue can sit on different kinds of storage. The classic store
// (store_classic.go) is one segment log plus an ack index; a priority queue
// can be one log per priority behind the same calls, a stream a log that is
// read, not consumed, with its own retention.
//
// Every message is ready (waiting for a consumer), in flight (handed out by
// next, held as a Ticket) or done. Implementations are not safe for
// concurrent use: the queue's mutex guards them. They run on the hot path:
// no call may allocate per message.
type store interface {
	// append stores m; its slices are the caller's and are copied.
	// commitGen > 0: m is persistent, the store durable, and m is safe once
	// the broker's Watermark has committed commitGen.
	append(m Message) (commitGen uint64, err error)
	// next hands out the next ready message and moves it in flight. d's
	// views are valid until the next call on the store. ok is false when
	// nothing is ready.
	next() (t Ticket, d Delivery, ok bool)
	// ack marks an in-flight message done for good: ack, reject or nack
	// without requeue, a no-ack delivery, an x-max-length drop.
	ack(t Ticket) error
	// requeue makes an in-flight message ready again, to be delivered with
	// redelivered set.
	requeue(t Ticket)
	// readyCount is the number of ready messages.
	readyCount() int
	// purge drops every ready message and returns how many.
	purge() int
	// close releases the store and keeps its contents; in-flight messages
	// are ready again, redelivered, when it is next opened (shutdown).
	close() error
	// destroy closes the store and deletes its contents (queue.delete).
	destroy() error
}

// Ticket is an in-flight message as its store handed it out. The holder (a
// channel's unacked list) gives it back exactly once, to Queue.Ack or
// Queue.Requeue, so a store keeps no per-message state for messages in
// flight. What it holds is the store's business; outside broker it is
// opaque.
//
// It is 20 bytes: unacked lists hold one per delivery.
type Ticket struct {
	pos        segment.Pos
	size, body uint32
	persistent bool
	level      uint8  // a priority store's level (store_priority.go); 0 elsewhere
	returns    uint16 // times it came back unacked: a quorum queue's delivery count
}
