package broker

import "github.com/warrenmq/warren/frame"

// queueSettings are the feature settings a queue runs with: its x-arguments
// merged with the policy and operator policy that apply to it (policies),
// by RabbitMQ's precedence rules. Features read them from Queue.cfg under
// the queue's lock, never from Queue.Args, so a policy change reaches them
// through Queue.reconfigure.
type queueSettings struct {
	messageTTL     int64  // x-message-ttl, ms; < 0 unset
	expires        int64  // x-expires, ms; <= 0 unset
	maxLength      int64  // x-max-length; < 0 unset
	maxLengthBytes int64  // x-max-length-bytes; < 0 unset
	overflow       string // x-overflow: "drop-head" (default), "reject-publish", "reject-publish-dlx"
	deadLetterX    string // x-dead-letter-exchange; hasDLX says whether set ("" is the default exchange)
	hasDLX         bool
	deadLetterRK   string // x-dead-letter-routing-key; hasDLRK says whether set
	hasDLRK        bool
	deliveryLimit  int64 // x-delivery-limit (quorum queues); < 0 unset
	maxPriority    int   // x-max-priority, 0 none (declare-time only: policies cannot set it)
	singleActive   bool  // x-single-active-consumer (declare-time only)
	queueType      string
	// A stream's x-max-age ("7D") and x-stream-max-segment-size-bytes
	// (0: unset), or its policy's (broker/stream_queue.go).
	maxAge            string
	streamSegmentSize int64
	// consumerTimeout is x-consumer-timeout (ms; <= 0 unset): unacked
	// deliveries older than this close their channel (netio).
	consumerTimeout int64
}

// settingsFromArgs reads the settings a queue's own arguments give, with
// RabbitMQ's defaults for what they leave out. validateQueueArgs has
// checked the types.
func settingsFromArgs(args frame.Table) queueSettings {
	s := queueSettings{messageTTL: -1, expires: -1, maxLength: -1, maxLengthBytes: -1, overflow: "drop-head", deliveryLimit: -1, queueType: "classic"}
	if n, ok := intArg(args["x-message-ttl"]); ok {
		s.messageTTL = n
	}
	if n, ok := intArg(args["x-expires"]); ok {
		s.expires = n
	}
	if n, ok := intArg(args["x-max-length"]); ok {
		s.maxLength = n
	}
	if n, ok := intArg(args["x-max-length-bytes"]); ok {
		s.maxLengthBytes = n
	}
	if v, ok := args["x-overflow"].(string); ok {
		s.overflow = v
	}
	if v, ok := args["x-dead-letter-exchange"].(string); ok {
		s.deadLetterX, s.hasDLX = v, true
	}
	if v, ok := args["x-dead-letter-routing-key"].(string); ok {
		s.deadLetterRK, s.hasDLRK = v, true
	}
	if n, ok := intArg(args["x-delivery-limit"]); ok {
		s.deliveryLimit = n
	}
	if n, ok := intArg(args["x-max-priority"]); ok {
		s.maxPriority = int(n)
	}
	if v, ok := args["x-single-active-consumer"].(bool); ok {
		s.singleActive = v
	}
	if v, ok := args["x-queue-type"].(string); ok {
		s.queueType = v
	}
	if v, ok := args["x-max-age"].(string); ok {
		s.maxAge = v
	}
	if n, ok := intArg(args["x-stream-max-segment-size-bytes"]); ok {
		s.streamSegmentSize = n
	}
	if n, ok := intArg(args["x-consumer-timeout"]); ok {
		s.consumerTimeout = n
	}
	return s
}

// reconfigure replaces q's settings (a policy was set, changed or
// cleared) and lets every feature react at once: a lower length limit
// drops, a new TTL expires, a new expiry reschedules.
func (q *Queue) reconfigure(s queueSettings) {
	q.mu.Lock()
	defer q.unlock()
	if q.deleted {
		return
	}
	q.cfg = s
	q.applySettingsLocked()
}

// applySettingsLocked brings the queue in line with q.cfg. Each feature
// adds its reaction here. REQUIRES: q.mu held.
func (q *Queue) applySettingsLocked() {
	if s, ok := q.st.(*streamStore); ok {
		s.reconfigureLocked(streamConfigOf(q))
		return
	}
	if q.limited() {
		q.dropOverflowLocked()
	}
	q.applyExpirySettingsLocked()
	q.readyN.Store(int64(q.st.readyCount()))
}
