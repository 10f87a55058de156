package broker

import "sync/atomic"

// ChannelState is the protocol state of a channel that management shows
// (RabbitMQ's prefetch_count, global_prefetch_count, confirm,
// transactional, messages_unconfirmed, messages_uncommitted,
// acks_uncommitted, messages_unacknowledged). The transport keeps it
// current where that state changes, all of them off the per-message path
// except the nack count; readers load it without locks.
type ChannelState struct {
	PrefetchCount       atomic.Uint32 // basic.qos global=false: each new consumer's window
	GlobalPrefetchCount atomic.Uint32 // basic.qos global=true: the channel's window
	Confirm             atomic.Bool   // confirm.select done
	Transactional       atomic.Bool   // tx.select done
	Nacked              atomic.Uint64 // publishes answered with basic.nack
	UncommittedMessages atomic.Uint32 // publishes held by the open transaction
	UncommittedAcks     atomic.Uint32 // acks held by the open transaction

	unacked func() int // set before the channel is registered
}

// SetUnackedCount gives the entry the transport's count of deliveries
// awaiting ack. Call it before AddChannel; f must be safe to call from
// any goroutine.
func (s *ChannelState) SetUnackedCount(f func() int) { s.unacked = f }

// Unacknowledged is the number of deliveries on the channel that await an
// ack (0 when the transport gave no count).
func (s *ChannelState) Unacknowledged() int {
	if s.unacked == nil {
		return 0
	}
	return s.unacked()
}
