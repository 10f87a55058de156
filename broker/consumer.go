package broker

// Deliverer is the consumer side of a queue, implemented by netio's channels.
// Every method is called with the queue's mutex held, so none may block or
// call back into the queue.
type Deliverer interface {
	// Reserve takes one unit of credit (prefetch window, output budget). It
	// returns false when the consumer cannot take a message now; the consumer
	// must then call Queue.Dispatch once it can.
	Reserve() bool
	// Deliver hands over a message after a successful Reserve. d's slices
	// are views into the queue's store, valid only during the call. Unless
	// the consumer is no-ack, it must give t back once, to Queue.Ack or
	// Queue.Requeue. origin is the Message.Origin of the publish that caused
	// the delivery, or nil.
	Deliver(q *Queue, c *Consumer, t Ticket, d Delivery, origin any)
	// Cancelled tells the consumer that the server has cancelled it (its queue
	// was deleted). The consumer must not touch the queue again.
	Cancelled(c *Consumer)
}

// Consumer is one basic.consume subscription on a queue.
type Consumer struct {
	Tag       string
	NoAck     bool
	Exclusive bool
	Args      map[string]any
	D         Deliverer
	Queue     *Queue
	priority  int64 // x-priority (consumer_priority.go), set by AddConsumer
}
