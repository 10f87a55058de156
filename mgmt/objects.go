package mgmt

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// Helpers shared by the queue, exchange and binding resources.

// vhostOr404 finds the path's {vhost}, or writes RabbitMQ's 404.
func (a *api) vhostOr404(w http.ResponseWriter, r *http.Request) (*broker.VHost, bool) {
	v, ok := a.b.VHost(pathValue(r, "vhost"))
	if !ok {
		writeNotFound(w)
		return nil, false
	}
	if !a.seesVHost(principalOf(r), v.Name) {
		writeError(w, http.StatusUnauthorized, "not_authorised", "User not authorised to access virtual host")
		return nil, false
	}
	return v, true
}

// writeBrokerError answers a broker error as the management API does: the
// AMQP reply text without its code name, 404 for a missing object, 401
// for an access refusal, 400 for the rest.
func writeBrokerError(w http.ResponseWriter, err error) {
	var fe *frame.Error
	if !errors.As(err, &fe) {
		writeError(w, http.StatusInternalServerError, "internal_server_error", err.Error())
		return
	}
	switch fe.Code {
	case frame.NotFound:
		writeError(w, http.StatusNotFound, "not_found", fe.Text)
	case frame.AccessRefused:
		writeError(w, http.StatusUnauthorized, "not_authorised", "Access refused.")
	default:
		writeError(w, http.StatusBadRequest, "bad_request", fe.Text)
	}
}

// argsTable converts a JSON "arguments" object into an AMQP table:
// integral numbers become signed 64-bit integers, others floats, as
// RabbitMQ's management API types them. ok false: not an object.
func argsTable(v any) (frame.Table, bool) {
	if v == nil {
		return nil, true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	t := make(frame.Table, len(m))
	for k, e := range m {
		t[k] = fieldFromJSON(e)
	}
	return t, true
}

func fieldFromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		t, _ := argsTable(x)
		return t
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fieldFromJSON(e)
		}
		return out
	}
	return v
}

// boolField reads an optional boolean body field; ok false: the 400 has
// been written.
func boolField(w http.ResponseWriter, body map[string]any, key string, def bool) (bool, bool) {
	v, present := body[key]
	if !present {
		return def, true
	}
	switch b := v.(type) {
	case bool:
		return b, true
	case string: // RabbitMQ's forms post "true"/"false"
		if b == "true" || b == "false" {
			return b == "true", true
		}
	}
	writeErrorReason(w, http.StatusBadRequest, "bad_request", []any{"not_boolean", v})
	return false, false
}

// writeErrorReason is writeError with a reason that is not a string (RabbitMQ
// prints some Erlang terms as JSON arrays).
func writeErrorReason(w http.ResponseWriter, status int, kind string, reason any) {
	data, _ := json.Marshal(map[string]any{"error": kind, "reason": reason})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

func emptyIfNil(t map[string]any) map[string]any {
	if t == nil {
		return map[string]any{}
	}
	return t
}
