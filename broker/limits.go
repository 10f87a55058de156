package broker

import (
	"errors"
	"log/slog"

	"github.com/warrenmq/warren/frame"
)

// Length limits, as RabbitMQ 3.10 applies them: x-max-length counts ready
// messages, x-max-length-bytes their body bytes; unacked messages count
// for neither. x-overflow says what happens past a limit:
//   - drop-head (default): the oldest ready messages go (dead lettered
//     with reason maxlen if the queue has a dead-letter exchange);
//   - reject-publish: a publish that would take the queue past a limit is
//     not stored; a confirming publisher gets basic.nack, others nothing;
//   - reject-publish-dlx: the same, and the rejected message is dead
//     lettered (reason maxlen).

// errQueueFull: a reject-publish queue refused a message (not a fault).
var errQueueFull = errors.New("queue full (x-overflow reject-publish)")

// bytesStore is a store that counts its ready body bytes.
type bytesStore interface{ readyBytes() int64 }

func (q *Queue) readyBytesLocked() int64 {
	if s, ok := q.st.(bytesStore); ok {
		return s.readyBytes()
	}
	return 0
}

// limited says whether q has a length limit. REQUIRES: q.mu held.
func (q *Queue) limited() bool { return q.cfg.maxLength >= 0 || q.cfg.maxLengthBytes >= 0 }

// overLimitLocked says whether q's ready messages exceed a limit now.
// REQUIRES: q.mu held.
func (q *Queue) overLimitLocked() bool {
	if q.cfg.maxLength >= 0 && int64(q.st.readyCount()) > q.cfg.maxLength {
		return true
	}
	return q.cfg.maxLengthBytes >= 0 && q.st.readyCount() > 0 && q.readyBytesLocked() > q.cfg.maxLengthBytes
}

// rejectPublishLocked applies reject-publish(-dlx) to m before it is
// stored: true means m must not be stored (RabbitMQ's will_overflow: the
// queue would exceed a limit with m in it). REQUIRES: q.mu held.
func (q *Queue) rejectPublishLocked(m *Message) bool {
	if q.cfg.overflow != "reject-publish" && q.cfg.overflow != "reject-publish-dlx" {
		return false
	}
	n := int64(q.st.readyCount()) + 1
	b := q.readyBytesLocked() + int64(len(m.Body))
	if !(q.cfg.maxLength >= 0 && n > q.cfg.maxLength) && !(q.cfg.maxLengthBytes >= 0 && b > q.cfg.maxLengthBytes) {
		return false
	}
	if q.cfg.overflow == "reject-publish-dlx" && q.cfg.hasDLX {
		d := Delivery{Exchange: m.Exchange, RoutingKey: m.RoutingKey, Props: m.Props, Body: m.Body, Persistent: m.Persistent, Timestamp: m.Timestamp}
		dm, ok := q.deadMessage(Ticket{}, &d, reasonMaxlen)
		if ok {
			dm.unstored = true
			q.addDeadLocked(dm)
		} else {
			slog.Debug("reject-publish-dlx: cannot dead letter the rejected message", "queue", q.Name)
		}
	}
	return true
}

// dropOverflowLocked applies drop-head: the oldest ready messages go
// until q is within its limits. REQUIRES: q.mu held.
func (q *Queue) dropOverflowLocked() {
	if q.cfg.overflow != "drop-head" && q.cfg.overflow != "" {
		return
	}
	for q.overLimitLocked() {
		t, d, ok := q.st.next()
		if !ok {
			return
		}
		q.forgetLocked(d)
		q.discardLocked(t, &d, reasonMaxlen)
	}
}

// validateLimitArgs refuses x-overflow and dead-letter arguments as
// RabbitMQ 3.10 does (same texts).
func validateLimitArgs(queue, vhost string, args frame.Table) error {
	if v, ok := args["x-overflow"]; ok {
		s, isStr := v.(string)
		switch {
		case !isStr:
			return frame.Errorf(frame.PreconditionFailed, "invalid arg 'x-overflow' for queue '%s' in vhost '%s': {unacceptable_type,%s}", queue, vhost, tableType(v))
		case s != "drop-head" && s != "reject-publish" && s != "reject-publish-dlx":
			return frame.Errorf(frame.PreconditionFailed, "invalid arg 'x-overflow' for queue '%s' in vhost '%s': invalid_overflow", queue, vhost)
		}
	}
	for _, k := range []string{"x-dead-letter-exchange", "x-dead-letter-routing-key"} {
		if v, ok := args[k]; ok {
			if _, isStr := v.(string); !isStr {
				return frame.Errorf(frame.PreconditionFailed, "invalid type '%s' for arg '%s' in queue '%s' in vhost '%s'", tableType(v), k, queue, vhost)
			}
		}
	}
	if _, ok := args["x-dead-letter-routing-key"]; ok {
		if _, ok := args["x-dead-letter-exchange"]; !ok {
			return frame.Errorf(frame.PreconditionFailed, "invalid arg 'x-dead-letter-routing-key' for queue '%s' in vhost '%s': routing_key_but_no_dlx_defined", queue, vhost)
		}
	}
	return nil
}
