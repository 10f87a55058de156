package broker

import (
	"fmt"
	"reflect"
	"time"

	"github.com/warrenmq/warren/frame"
)

// Queue arguments whose values RabbitMQ compares on redeclare. Other x-
// arguments are accepted and kept but not compared, as RabbitMQ does.
var comparedQueueArgs = []string{
	"x-message-ttl", "x-expires", "x-max-length", "x-max-length-bytes",
	"x-dead-letter-exchange", "x-dead-letter-routing-key", "x-max-priority",
	"x-overflow", "x-queue-mode", "x-queue-type", "x-single-active-consumer",
	"x-queue-master-locator", "x-queue-version",
}

// tableType names a field-table value's type as RabbitMQ's messages do.
func tableType(v any) string {
	switch v.(type) {
	case nil:
		return "none"
	case bool:
		return "bool"
	case int8, uint8, int16, uint16, int32, uint32, int64:
		return "signedint"
	case float32, float64:
		return "double"
	case string:
		return "longstr"
	case []byte:
		return "bytes"
	case frame.Table:
		return "table"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

// intArg reads an integer argument of any integer type.
func intArg(v any) (int64, bool) {
	switch n := v.(type) {
	case int8:
		return int64(n), true
	case uint8:
		return int64(n), true
	case int16:
		return int64(n), true
	case uint16:
		return int64(n), true
	case int32:
		return int64(n), true
	case uint32:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}

func argsEqual(a, b any) bool {
	ai, aok := intArg(a)
	bi, bok := intArg(b)
	if aok && bok {
		return ai == bi
	}
	return reflect.DeepEqual(a, b)
}

// checkQueueArgsEquivalent mirrors RabbitMQ's assert_args_equivalence.
func checkQueueArgsEquivalent(q *Queue, got frame.Table) error {
	keys := comparedQueueArgs
	if q.IsStream() {
		keys = append(keys[:len(keys):len(keys)], streamComparedArgs...) // stream_queue.go
	}
	for _, k := range keys {
		cur, hasCur := q.Args[k]
		rcv, hasRcv := got[k]
		if !hasCur && !hasRcv {
			continue
		}
		if k == "x-queue-type" {
			if same, err := queueTypeEquivalent(q, cur, hasCur, rcv, hasRcv); same || err != nil {
				if err != nil {
					return err
				}
				continue
			}
		}
		if hasCur && hasRcv && argsEqual(cur, rcv) {
			continue
		}
		curS := "none"
		if hasCur {
			curS = fmt.Sprintf("the value '%v' of type '%s'", cur, tableType(cur))
		}
		rcvS := "none"
		if hasRcv {
			rcvS = fmt.Sprintf("the value '%v' of type '%s'", rcv, tableType(rcv))
		}
		return frame.Errorf(frame.PreconditionFailed,
			"inequivalent arg '%s' for queue '%s' in vhost '%s': received %s but current is %s",
			k, q.Name, q.vhost.Name, rcvS, curS)
	}
	return nil
}

// validateQueueArgs rejects argument values RabbitMQ rejects.
func validateQueueArgs(args frame.Table) error {
	for _, k := range []string{"x-max-length", "x-max-length-bytes", "x-message-ttl", "x-expires"} {
		v, ok := args[k]
		if !ok || isStreamArgs(args) { // a stream's are checked with its type (stream_queue.go)
			continue
		}
		n, isInt := intArg(v)
		if !isInt {
			return frame.Errorf(frame.PreconditionFailed, "invalid arg '%s': expected an integer, got %s", k, tableType(v))
		}
		if n < 0 || (k == "x-expires" && n == 0) {
			return frame.Errorf(frame.PreconditionFailed, "invalid arg '%s': %d is out of range", k, n)
		}
	}
	return nil
}

// unsupportedQueueArgs are arguments whose behaviour Warren does not have
// yet. Declaring a queue with one fails at once with a clear error instead of
// silently ignoring the feature (a client waiting for a TTL would hang).
// One per line: each lands with its feature and leaves this list.
var unsupportedQueueArgs = []string{}

func checkSupportedQueueArgs(args frame.Table) error {
	for _, k := range unsupportedQueueArgs {
		if _, ok := args[k]; ok {
			return frame.Errorf(frame.PreconditionFailed, "queue argument '%s' is not supported by this Warren version", k)
		}
	}
	return nil
}

// queueTypeEquivalent is RabbitMQ 3.10's x-queue-type comparison: an
// absent type is classic, and two types given are compared by name; an
// absent one against another type falls to the general comparison
// (same=false, err=nil).
func queueTypeEquivalent(q *Queue, cur any, hasCur bool, rcv any, hasRcv bool) (same bool, err error) {
	if !hasCur || !hasRcv {
		present := cur
		if !hasCur {
			present = rcv
		}
		return present == "classic", nil
	}
	if argsEqual(cur, rcv) {
		return true, nil
	}
	return false, frame.Errorf(frame.PreconditionFailed,
		"inequivalent arg 'x-queue-type' for queue '%s' in vhost '%s': received '%v' but current is '%v'",
		q.Name, q.vhost.Name, rcv, cur)
}

// checkQueueTypeArgs checks x-queue-type and x-queue-mode as RabbitMQ 3.10
// does: classic, quorum and stream queues are served (a stream's own
// arguments in stream_queue.go). Warren
// keeps every backlog on disk, so both queue modes mean the same.
func checkQueueTypeArgs(v *VHost, name string, args frame.Table) error {
	invalid := func(arg, why string) error {
		return frame.Errorf(frame.PreconditionFailed, "invalid arg '%s' for queue '%s' in vhost '%s': %s", arg, name, v.Name, why)
	}
	if t, ok := args["x-queue-type"]; ok {
		s, isStr := t.(string)
		switch {
		case !isStr:
			return invalid("x-queue-type", "{unacceptable_type,"+erlangType(t)+"}")
		case s == "stream":
			return validateStreamArgs(v, name, args) // stream_queue.go
		case s != "classic" && s != "quorum":
			return invalid("x-queue-type", "\"unsupported queue type '"+s+"'\"")
		}
	}
	if m, ok := args["x-queue-mode"]; ok {
		s, isStr := m.(string)
		switch {
		case !isStr:
			return invalid("x-queue-mode", "{unacceptable_type,"+erlangType(m)+"}")
		case s != "default" && s != "lazy":
			return invalid("x-queue-mode", "\"unsupported queue mode '"+s+"'\"")
		}
	}
	return nil
}

// erlangType names a field table value's type as RabbitMQ's error terms do.
func erlangType(v any) string {
	switch v.(type) {
	case int8:
		return "byte"
	case uint8:
		return "unsignedbyte"
	case int16:
		return "short"
	case uint16:
		return "unsignedshort"
	case int32:
		return "signedint"
	case uint32:
		return "unsignedint"
	case int64:
		return "long"
	case bool:
		return "bool"
	case float32:
		return "float"
	case float64:
		return "double"
	case frame.Decimal:
		return "decimal"
	case []byte:
		return "binary"
	case frame.Table:
		return "table"
	case []any:
		return "array"
	case time.Time:
		return "timestamp"
	case nil:
		return "void"
	}
	return tableType(v)
}
