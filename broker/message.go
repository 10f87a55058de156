package broker

// Message is one publish as it arrives from a client. Its slices are views
// owned by the caller and are copied once, into each target queue's store.
type Message struct {
	Exchange   []byte
	RoutingKey []byte
	Props      []byte // raw content-header properties, kept as sent
	Body       []byte
	Persistent bool // delivery-mode 2
	Timestamp  int64
	// Origin is opaque to the broker: it is handed to Deliverer.Deliver for
	// the deliveries this publish causes (netio batches wake-ups with it).
	Origin any
	fired  bool // routed by a delayed exchange once due: not delayed or deduplicated again
	bcc    bool // Props still hold a BCC header, stripped at delivery (sender_selected.go)
}

// PublishResult says what became of a publish.
type PublishResult struct {
	Routed int // queues the message was stored in
	// Unstored counts queues that could not store it (a full disk, an I/O
	// error): a confirming publisher gets a nack.
	Unstored int
	// CommitGen > 0: the message is persistent in at least one durable queue
	// and is safe once the broker's Watermark has committed this generation.
	CommitGen uint64
}

// Delivery is a stored message as a queue hands it out, to Deliverer.Deliver
// or Queue.Get. Its slices are views into the queue's store, valid only
// during the call that received it; it is passed by value, so handing it out
// allocates nothing.
type Delivery struct {
	Exchange    []byte
	RoutingKey  []byte
	Props       []byte // raw content-header properties, as published
	Body        []byte
	Timestamp   int64 // when the broker received it, unix milliseconds
	Persistent  bool  // delivery-mode 2
	Redelivered bool  // it may have been delivered before

	// bccCut: the stored record keeps a BCC header that Props leaves out
	// (storeBCCFlag); dead lettering reads the record again for its keys.
	bccCut bool
}
