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
}

// PublishResult says what became of a publish.
type PublishResult struct {
	Routed int // queues the message was stored in
	// SyncGen > 0: the message is persistent in at least one durable queue and
	// is safe on disk once the broker's Syncer reaches this generation.
	SyncGen uint64
}
