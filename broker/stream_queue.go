package broker

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/warrenmq/warren/frame"
)

// knownQueueArgs are the arguments of other queue types that RabbitMQ
// refuses on a stream ("... of queue type rabbit_stream_queue"); others
// are ignored, as RabbitMQ does.
// streamComparedArgs are the stream arguments RabbitMQ compares on a
// redeclare, besides x-queue-type and x-max-length-bytes.
var streamComparedArgs = []string{"x-max-age", "x-stream-max-segment-size-bytes"}

var knownQueueArgs = []string{
	"x-expires", "x-message-ttl", "x-dead-letter-exchange", "x-dead-letter-routing-key",
	"x-max-length", "x-max-in-memory-length", "x-max-in-memory-bytes", "x-max-priority",
	"x-overflow", "x-queue-mode", "x-queue-version", "x-single-active-consumer",
	"x-quorum-initial-group-size", "x-delivery-limit", "x-queue-master-locator",
	"x-message-deduplication", "x-consumer-timeout", "x-dead-letter-strategy",
}

// validateStreamArgs checks a stream's arguments (x-queue-type=stream) as
// RabbitMQ 3.10 does.
func validateStreamArgs(v *VHost, name string, args frame.Table) error {
	for _, k := range knownQueueArgs {
		if _, ok := args[k]; ok {
			return frame.Errorf(frame.PreconditionFailed, "invalid arg '%s' for queue '%s' in vhost '%s' of queue type rabbit_stream_queue", k, name, v.Name)
		}
	}
	if a, ok := args["x-max-age"]; ok {
		s, isStr := a.(string)
		if _, err := parseMaxAge(s); !isStr || err != nil {
			return frame.Errorf(frame.PreconditionFailed, "invalid arg 'x-max-age' for queue '%s' in vhost '%s': invalid_max_age", name, v.Name)
		}
	}
	// Both byte sizes are non-negative integers; a segment is at most 3 GB.
	for _, k := range [...]struct {
		key string
		max int64
	}{{"x-max-length-bytes", 0}, {"x-stream-max-segment-size-bytes", 3_000_000_000}} {
		a, ok := args[k.key]
		if !ok {
			continue
		}
		n, isInt := intArg(a)
		switch {
		case !isInt:
			return frame.Errorf(frame.PreconditionFailed, "invalid arg '%s' for queue '%s' in vhost '%s': \"expected integer, got %s\"", k.key, name, v.Name, tableType(a))
		case n < 0:
			return frame.Errorf(frame.PreconditionFailed, "invalid arg '%s' for queue '%s' in vhost '%s': {value_negative,%d}", k.key, name, v.Name, n)
		case k.max > 0 && n > k.max:
			return frame.Errorf(frame.PreconditionFailed, "invalid arg '%s' for queue '%s' in vhost '%s': {max_value_exceeded,%d}", k.key, name, v.Name, n)
		}
	}
	return nil
}

func isStreamArgs(args frame.Table) bool {
	t, _ := args["x-queue-type"].(string)
	return t == "stream"
}

// validateStreamDeclare refuses the queue properties a stream cannot have,
// with RabbitMQ's texts.
func validateStreamDeclare(o QueueDeclareOptions, vhost string) error {
	if t, _ := o.Args["x-queue-type"].(string); t != "stream" {
		return nil
	}
	prop := ""
	switch {
	case !o.Durable:
		prop = "non-durable"
	case o.Exclusive:
		prop = "exclusive-owner"
	case o.AutoDelete:
		prop = "auto-delete"
	}
	if prop != "" {
		return frame.Errorf(frame.PreconditionFailed, "invalid property '%s' for queue '%s' in vhost '%s'", prop, o.Name, vhost)
	}
	return nil
}

// parseMaxAge reads RabbitMQ's age syntax: digits and one of Y, M, D, h,
// m, s (a year is 365 days, a month 30).
func parseMaxAge(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, errors.New("bad age")
	}
	n, err := strconv.ParseUint(s[:len(s)-1], 10, 32)
	if err != nil {
		return 0, errors.New("bad age")
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 'Y':
		unit = 365 * 24 * time.Hour
	case 'M':
		unit = 30 * 24 * time.Hour
	case 'D':
		unit = 24 * time.Hour
	case 'h':
		unit = time.Hour
	case 'm':
		unit = time.Minute
	case 's':
		unit = time.Second
	default:
		return 0, errors.New("bad age")
	}
	return time.Duration(n) * unit, nil
}

// streamConfigOf merges q's arguments with its policies' stream keys
// (the argument wins, as RabbitMQ's stream queue takes it).
func streamConfigOf(q *Queue) StreamConfig {
	var c StreamConfig
	if q.cfg.maxLengthBytes >= 0 {
		c.MaxLengthBytes = q.cfg.maxLengthBytes
	}
	if d, err := parseMaxAge(q.cfg.maxAge); err == nil {
		c.MaxAge = d
	}
	if q.cfg.streamSegmentSize > 0 {
		c.MaxSegmentSizeBytes = q.cfg.streamSegmentSize
	}
	return c
}

func streamConfigFromArguments(args map[string]string) (StreamConfig, error) {
	var c StreamConfig
	for k, v := range args {
		switch k {
		case "max-length-bytes", "stream-max-segment-size-bytes":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return c, fmt.Errorf("invalid %s %q", k, v)
			}
			if k == "max-length-bytes" {
				c.MaxLengthBytes = n
			} else {
				c.MaxSegmentSizeBytes = n
			}
		case "max-age":
			d, err := parseMaxAge(v)
			if err != nil {
				return c, fmt.Errorf("invalid max-age %q", v)
			}
			c.MaxAge = d
		case "queue-leader-locator", "initial-cluster-size", "stream-filter-size-bytes":
		default:
			return c, fmt.Errorf("unknown stream argument %q", k)
		}
	}
	return c, nil
}

func (v *VHost) lookupStream(name string) (*Stream, error) {
	v.mu.RLock()
	q, ok := v.queues[name]
	v.mu.RUnlock()
	if !ok {
		return nil, ErrStreamNotFound
	}
	s, ok := q.StreamOf()
	if !ok {
		if q.IsStream() {
			return nil, ErrStreamDeleted
		}
		return nil, ErrNotAStream
	}
	return s, nil
}

func (v *VHost) declareStream(p *Principal, name string, cfg StreamConfig) (*Stream, bool, error) {
	args := frame.Table{"x-queue-type": "stream"}
	if cfg.MaxLengthBytes > 0 {
		args["x-max-length-bytes"] = cfg.MaxLengthBytes
	}
	if cfg.MaxAge > 0 {
		args["x-max-age"] = strconv.FormatInt(int64(cfg.MaxAge/time.Second), 10) + "s"
	}
	if cfg.MaxSegmentSizeBytes > 0 {
		args["x-stream-max-segment-size-bytes"] = cfg.MaxSegmentSizeBytes
	}
	v.mu.RLock()
	_, existed := v.queues[name]
	v.mu.RUnlock()
	q, err := v.QueueDeclare(p, QueueDeclareOptions{Name: name, Durable: true, Args: args})
	if err != nil {
		return nil, false, err
	}
	s, ok := q.StreamOf()
	if !ok {
		return nil, false, ErrNotAStream
	}
	return s, !existed, nil
}

func (v *VHost) deleteStream(p *Principal, name string) error {
	if _, err := v.lookupStream(name); err != nil {
		return err
	}
	_, err := v.QueueDelete(p, name, QueueDeleteOptions{}, 0)
	return err
}

// StreamConsumeOptions are a 0-9-1 consumer's stream arguments.
type StreamConsumeOptions struct {
	Spec            OffsetSpec
	Filter          [][]byte
	MatchUnfiltered bool
}

// ParseStreamConsumeArgs reads basic.consume's x-stream-offset (first,
// last, next, an offset, a timestamp, an interval such as "30m", "1h",
// "7D"), x-stream-filter (a string or an array of strings) and
// x-stream-match-unfiltered. now is the time an interval counts back from.
func ParseStreamConsumeArgs(args frame.Table, now time.Time) (StreamConsumeOptions, error) {
	o := StreamConsumeOptions{Spec: OffsetSpec{Kind: OffsetNext}}
	bad := func(v any) error {
		return frame.Errorf(frame.PreconditionFailed, "invalid x-stream-offset: %v", v)
	}
	if a, ok := args["x-stream-offset"]; ok {
		switch x := a.(type) {
		case string:
			switch x {
			case "first":
				o.Spec.Kind = OffsetFirst
			case "last":
				o.Spec.Kind = OffsetLast
			case "next":
				o.Spec.Kind = OffsetNext
			default:
				d, err := parseMaxAge(x)
				if err != nil {
					return o, bad(x)
				}
				o.Spec = OffsetSpec{Kind: OffsetTimestamp, Timestamp: now.Add(-d).UnixMilli()}
			}
		case time.Time:
			o.Spec = OffsetSpec{Kind: OffsetTimestamp, Timestamp: x.UnixMilli()}
		default:
			n, isInt := intArg(a)
			if !isInt {
				return o, bad(a)
			}
			if n < 0 {
				n = 0 // RabbitMQ reads a negative offset from the start
			}
			o.Spec = OffsetSpec{Kind: OffsetAbsolute, Offset: uint64(n)}
		}
	}
	if a, ok := args["x-stream-filter"]; ok {
		switch x := a.(type) {
		case string:
			o.Filter = [][]byte{[]byte(x)}
		case []any:
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return o, frame.Errorf(frame.PreconditionFailed, "invalid x-stream-filter: %v", a)
				}
				o.Filter = append(o.Filter, []byte(s))
			}
		default:
			return o, frame.Errorf(frame.PreconditionFailed, "invalid x-stream-filter: %v", a)
		}
	}
	if a, ok := args["x-stream-match-unfiltered"]; ok {
		b, isBool := a.(bool)
		if !isBool {
			return o, frame.Errorf(frame.PreconditionFailed, "invalid x-stream-match-unfiltered: %v", a)
		}
		o.MatchUnfiltered = b
	}
	return o, nil
}

// CheckStreamConsume refuses what RabbitMQ refuses for a 0-9-1 consumer
// of a stream: no-ack (540, closing the connection) and a missing
// prefetch (406). prefetch is the consumer's basic.qos count.
func CheckStreamConsume(q *Queue, noAck bool, prefetch int) error {
	if noAck {
		return frame.Errorf(frame.NotImplemented, "automatic acknowledgement not supported by stream queues queue '%s' in vhost '%s'", q.Name, q.vhost.Name)
	}
	if prefetch <= 0 {
		return frame.Errorf(frame.PreconditionFailed, "consumer prefetch count is not set for 'queue '%s' in vhost '%s''", q.Name, q.vhost.Name)
	}
	return nil
}

// StreamRefused is the error RabbitMQ gives for an operation streams do
// not support ("basic.get", "queue.purge"): 540, closing the connection.
func StreamRefused(q *Queue, op string) error {
	return frame.Errorf(frame.NotImplemented, "%s not supported by stream queues queue '%s' in vhost '%s'", op, q.Name, q.vhost.Name)
}

// AddStreamConsumer subscribes a 0-9-1 consumer of a stream: listed with
// the queue's consumers (management, Cancelled on delete) but never
// dispatched to: it reads through its own StreamReader. before runs once
// c is accepted, under the queue's lock.
func (q *Queue) AddStreamConsumer(c *Consumer, before func()) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted {
		return frame.Errorf(frame.NotFound, "no queue '%s' in vhost '%s'", q.Name, q.vhost.Name)
	}
	if _, ok := q.st.(*streamStore); !ok {
		return frame.Errorf(frame.PreconditionFailed, "queue '%s' in vhost '%s' is not a stream", q.Name, q.vhost.Name)
	}
	c.Queue = q
	q.consumers = append(q.consumers, c)
	q.hadConsumer = true
	q.consumersN.Store(int32(len(q.consumers)))
	if before != nil {
		before()
	}
	return nil
}
