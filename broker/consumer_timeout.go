package broker

import "time"

// ConsumerTimeout is the queue's x-consumer-timeout (RabbitMQ 3.12): how
// long its deliveries may stay unacknowledged before netio closes the
// channel holding them. ok is false when the queue sets none.
func (q *Queue) ConsumerTimeout() (d time.Duration, ok bool) {
	q.mu.Lock()
	ms := q.cfg.consumerTimeout
	q.mu.Unlock()
	return time.Duration(ms) * time.Millisecond, ms > 0
}

// IntArg reads an AMQP table value of any integer type.
func IntArg(v any) (int64, bool) { return intArg(v) }
