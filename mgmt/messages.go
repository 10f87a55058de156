package mgmt

import (
	"encoding/base64"
	"net/http"
	"unicode/utf8"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// getMessages is POST /api/queues/{vhost}/{name}/get: count, ackmode
// (ack_requeue_true, reject_requeue_true: look and put back;
// ack_requeue_false: take; reject_requeue_false: take and reject without
// requeue, so a queue with a dead-letter exchange dead letters them with
// reason rejected, as RabbitMQ's basic.get + basic.reject), encoding (auto: text
// when the body is UTF-8, else base64; base64) and an optional truncate.
// Messages put back are requeued after all are taken, so count gets
// count distinct messages, as in RabbitMQ.
func (a *api) getMessages(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	v, q, ok := a.queueOr404(w, r)
	if !ok || streamRefused(w, v, q, "540 ", "basic.get") { // stream_stats.go
		return
	}
	body, ok := decodeObject(w, r)
	if !ok || !requireKeys(w, body, "count", "ackmode", "encoding") {
		return
	}
	count, ok := intParam(body["count"]) // parse_int.go
	if !ok || count < 0 {
		writeError(w, http.StatusBadRequest, "bad_request", "count must be a non-negative integer")
		return
	}
	var requeue, reject bool
	switch body["ackmode"] {
	case "ack_requeue_true", "reject_requeue_true":
		requeue = true
	case "reject_requeue_false":
		reject = true
	case "ack_requeue_false":
	default:
		writeError(w, http.StatusBadRequest, "bad_request", "ackmode must be ack_requeue_true, ack_requeue_false, reject_requeue_true or reject_requeue_false")
		return
	}
	enc, _ := body["encoding"].(string)
	if enc != "auto" && enc != "base64" {
		writeError(w, http.StatusBadRequest, "bad_request", "encoding must be auto or base64")
		return
	}
	truncate := int64(-1)
	if t, present := body["truncate"]; present {
		if truncate, ok = intParam(t); !ok || truncate < 0 {
			writeError(w, http.StatusBadRequest, "bad_request", "truncate must be a non-negative integer")
			return
		}
	}
	// As RabbitMQ: messages to put back or reject are got with
	// acknowledgement and then requeued or rejected, the others got
	// without (its get and get_no_ack counts).
	out := []map[string]any{}
	var held []broker.Ticket
	var readErr error
	for range count {
		got, err := q.GetErr(!requeue && !reject, func(t broker.Ticket, d broker.Delivery, remaining int) {
			if requeue || reject {
				held = append(held, t)
			}
			out = append(out, messageJSON(d, remaining, enc, truncate))
		})
		if !got {
			readErr = err
			break
		}
	}
	if reject {
		q.Reject(held...)
	} else {
		q.Requeue(held...)
	}
	// A read the kernel refused for now (queue_readfail.go) while messages
	// were ready is an error, not the empty list an empty queue gives; but
	// messages already taken are shown, since ack_requeue_false removed them.
	if readErr != nil && len(out) == 0 {
		writeError(w, http.StatusInternalServerError, "internal_server_error", readErr.Error())
		return
	}
	writeJSON(w, out)
}

// messageJSON copies what it needs: d's slices are valid only in Get's
// callback.
func messageJSON(d broker.Delivery, remaining int, enc string, truncate int64) map[string]any {
	body := d.Body
	if truncate >= 0 && int64(len(body)) > truncate {
		body = body[:truncate]
	}
	payload, payloadEnc := "", "string"
	if enc == "auto" && utf8.Valid(body) {
		payload = string(body)
	} else {
		payload, payloadEnc = base64.StdEncoding.EncodeToString(body), "base64"
	}
	var props any = []any{} // RabbitMQ prints no properties as an empty list
	if p, err := frame.DecodeProperties(d.Props); err == nil {
		if m := propertiesJSON(p); len(m) > 0 {
			props = m
		}
	}
	return map[string]any{
		"payload_bytes":    len(d.Body),
		"redelivered":      d.Redelivered,
		"exchange":         string(d.Exchange),
		"routing_key":      string(d.RoutingKey),
		"message_count":    remaining,
		"properties":       props,
		"payload":          payload,
		"payload_encoding": payloadEnc,
	}
}
