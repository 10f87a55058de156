package mgmt

// Sorting and column selection over queue rows without building each
// row's map: a sort on messages or a publish rate over 10,000 queues used
// to render every queue as nested maps (queueJSON) just to read one value
// of each. field reads the value from the row struct instead, the same
// value the map holds, so the order and the selected columns are the
// same as before.

// field is row's value at path, as queueJSON's map would give it; ok
// false for a key the struct does not answer for (the lister then falls
// back to the map).
func (row *queueRow) field(path []string) (any, bool) {
	if len(path) == 0 {
		return nil, false
	}
	if len(path) > 1 {
		if path[0] != "message_stats" {
			return nil, false
		}
		return row.MessageStats.field(path[1:])
	}
	switch path[0] {
	case "name":
		return row.Name, true
	case "vhost":
		return row.VHost, true
	case "node":
		return row.Node, true
	case "durable":
		return row.Durable, true
	case "auto_delete":
		return row.AutoDelete, true
	case "exclusive":
		return row.Exclusive, true
	case "arguments":
		return row.Arguments, true
	case "type":
		return row.Type, true
	case "state":
		return row.State, true
	case "consumers":
		return row.Consumers, true
	case "messages":
		return row.Messages, true
	case "messages_ready":
		return row.MessagesReady, true
	case "messages_unacknowledged":
		return row.MessagesUnacknowledged, true
	case "policy":
		return row.Policy, true
	case "operator_policy":
		return row.OperatorPolicy, true
	case "effective_policy_definition":
		return row.EffectivePolicyDefinition, true
	case "message_stats":
		return row.MessageStats, true
	case "idle_since": // absent from the map while busy
		if row.IdleSince == "" {
			return nil, true
		}
		return row.IdleSince, true
	case "memory":
		return row.Memory, true
	case "message_bytes":
		return row.MessageBytes, true
	case "message_bytes_ready":
		return row.MessageBytesReady, true
	case "message_bytes_unacknowledged":
		return row.MessageBytesUnacked, true
	}
	return nil, false // members, online, readers, stream: streams' only
}

// field is the value at path inside message_stats ("publish",
// "publish_details", "publish_details.rate", ...); a path it does not
// have is nil, as a lookup in asMap's map finds nothing there.
func (s *messageStats) field(path []string) (any, bool) {
	var n uint64
	var r float64
	switch path[0] {
	case "ack", "ack_details":
		n, r = s.Ack, s.AckDetails.Rate
	case "deliver_get", "deliver_get_details":
		n, r = s.DeliverGet, s.DeliverGetDetails.Rate
	case "get", "get_details":
		n, r = s.Get, s.GetDetails.Rate
	case "get_no_ack", "get_no_ack_details":
		n, r = s.GetNoAck, s.GetNoAckDetails.Rate
	case "publish", "publish_details":
		n, r = s.Publish, s.PublishDetails.Rate
	case "redeliver", "redeliver_details":
		n, r = s.Redeliver, s.RedeliverDetails.Rate
	default:
		return nil, true
	}
	details := len(path[0]) > 8 && path[0][len(path[0])-8:] == "_details"
	switch {
	case !details && len(path) == 1:
		return n, true
	case details && len(path) == 1:
		return map[string]any{"rate": r}, true
	case details && len(path) == 2 && path[1] == "rate":
		return r, true
	}
	return nil, true
}
