package broker

import (
	"fmt"
	"reflect"

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
	for _, k := range comparedQueueArgs {
		cur, hasCur := q.Args[k]
		rcv, hasRcv := got[k]
		if !hasCur && !hasRcv {
			continue
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
	for _, k := range []string{"x-max-length", "x-max-length-bytes", "x-message-ttl", "x-expires", "x-max-priority"} {
		v, ok := args[k]
		if !ok {
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
var unsupportedQueueArgs = []string{
	"x-message-ttl",
	"x-expires",
	"x-dead-letter-exchange",
	"x-dead-letter-routing-key",
	"x-max-length-bytes",
	"x-max-priority",
	"x-single-active-consumer",
}

func checkSupportedQueueArgs(args frame.Table) error {
	for _, k := range unsupportedQueueArgs {
		if _, ok := args[k]; ok {
			return frame.Errorf(frame.PreconditionFailed, "queue argument '%s' is not supported by this Warren version", k)
		}
	}
	if v, ok := args["x-overflow"]; ok {
		if s, _ := v.(string); s != "drop-head" {
			return frame.Errorf(frame.PreconditionFailed, "x-overflow '%v' is not supported by this Warren version (only drop-head)", v)
		}
	}
	return nil
}
