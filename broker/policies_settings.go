package broker

import "github.com/warrenmq/warren/frame"

// effectiveSettings merges a queue's arguments with the definitions of the
// policy (pol) and operator policy (op) that apply to it, by RabbitMQ
// 3.10's rules:
//
//   - policy against operator policy (rabbit_policy:get0 and
//     rabbit_policies:merge_policy_value): for the limits (message-ttl,
//     expires, max-length, max-length-bytes, delivery-limit) the lower
//     wins; operator policies hold nothing else.
//   - that value against the queue's own x-argument
//     (rabbit_queue_type_util:args_policy_lookup with the resolvers of
//     rabbit_amqqueue_process:process_args_policy for classic queues and
//     rabbit_quorum_queue:ra_machine_config for quorum ones): for the
//     limits the lower wins, except that a quorum queue takes its policy's
//     expires; the argument wins for dead-letter-exchange and
//     dead-letter-routing-key, and for overflow on a classic queue (a
//     quorum queue takes its policy's overflow).
func effectiveSettings(args frame.Table, pol, op map[string]any) queueSettings {
	s := settingsFromArgs(args)
	quorum := s.queueType == "quorum"
	limit := func(key string, dst *int64, policyWins bool) {
		pv, ok := mergedPolicyLimit(key, pol, op)
		if !ok {
			return
		}
		if _, hasArg := intArg(args["x-"+key]); hasArg && !policyWins {
			*dst = min(*dst, pv)
			return
		}
		*dst = pv
	}
	limit("message-ttl", &s.messageTTL, false)
	limit("expires", &s.expires, quorum)
	limit("max-length", &s.maxLength, false)
	// A stream takes its policy's retention and segment size over its
	// arguments (RabbitMQ 3.10's rabbit_stream_queue resolves them with
	// policy_precedence(PolVal, _ArgVal) -> PolVal).
	stream := s.queueType == "stream"
	limit("max-length-bytes", &s.maxLengthBytes, stream)
	limit("delivery-limit", &s.deliveryLimit, false)

	if v, ok := pol["max-age"].(string); ok && (stream || !hasArg(args, "x-max-age")) {
		s.maxAge = v
	}
	if n, ok := policyInt(pol["stream-max-segment-size-bytes"]); ok && (stream || !hasArg(args, "x-stream-max-segment-size-bytes")) {
		s.streamSegmentSize = n
	}
	if v, ok := pol["dead-letter-exchange"].(string); ok && !hasArg(args, "x-dead-letter-exchange") {
		s.deadLetterX, s.hasDLX = v, true
	}
	if v, ok := pol["dead-letter-routing-key"].(string); ok && !hasArg(args, "x-dead-letter-routing-key") {
		s.deadLetterRK, s.hasDLRK = v, true
	}
	if v, ok := pol["overflow"].(string); ok && (quorum || !hasArg(args, "x-overflow")) {
		s.overflow = v
	}
	return s
}

// mergedPolicyLimit is a limit's value from the policy and the operator
// policy: the lower of the two if both set it.
func mergedPolicyLimit(key string, pol, op map[string]any) (int64, bool) {
	pv, pok := policyInt(pol[key])
	ov, ook := policyInt(op[key])
	switch {
	case pok && ook:
		return min(pv, ov), true
	case pok:
		return pv, true
	case ook:
		return ov, true
	}
	return 0, false
}

func hasArg(args frame.Table, key string) bool {
	_, ok := args[key]
	return ok
}
