package broker

import (
	"fmt"

	"github.com/warrenmq/warren/frame"
)

// maxPriorityLimit is RabbitMQ's bound on x-max-priority.
const maxPriorityLimit = 255

// validateConsumerSideQueueArgs checks x-max-priority and
// x-single-active-consumer as RabbitMQ 3.10 does, with its error texts
// (which print Erlang terms): 0 is accepted and means no priorities.
func validateConsumerSideQueueArgs(v *VHost, queue string, args frame.Table) error {
	if a, ok := args["x-max-priority"]; ok {
		n, isInt := intArg(a)
		switch {
		case !isInt:
			return invalidQueueArg(v, queue, "x-max-priority", "\"expected integer, got "+tableType(a)+"\"")
		case n < 0:
			return invalidQueueArg(v, queue, "x-max-priority", fmt.Sprintf("{value_negative,%d}", n))
		case n > maxPriorityLimit:
			return invalidQueueArg(v, queue, "x-max-priority", fmt.Sprintf("{max_value_exceeded,%d}", n))
		}
	}
	if a, ok := args["x-single-active-consumer"]; ok {
		if _, isBool := a.(bool); !isBool {
			return invalidQueueArg(v, queue, "x-single-active-consumer", "{unacceptable_type,"+tableType(a)+"}")
		}
	}
	return nil
}

func invalidQueueArg(v *VHost, queue, arg, why string) error {
	return frame.Errorf(frame.PreconditionFailed, "invalid arg '%s' for queue '%s' in vhost '%s': %s", arg, queue, v.Name, why)
}
