package mgmt

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// registerExchanges serves /api/exchanges: lists, one exchange (with its
// incoming and outgoing bindings), declare (PUT), delete (if-unused),
// publish, and the bindings it is the source or destination of.
func (a *api) registerExchanges() {
	a.handle("GET", "/api/exchanges", permManagement, a.listExchanges)
	a.handle("GET", "/api/exchanges/{$}", permManagement, a.listExchanges)
	a.handle("GET", "/api/exchanges/{vhost}", permManagement, a.listVHostExchanges)
	a.handle("GET", "/api/exchanges/{vhost}/{name}", permManagement, a.getExchange)
	a.handle("PUT", "/api/exchanges/{vhost}/{name}", permManagement, a.putExchange)
	a.handle("DELETE", "/api/exchanges/{vhost}/{name}", permManagement, a.deleteExchange)
	a.handle("POST", "/api/exchanges/{vhost}/{name}/publish", permManagement, a.publish)
	a.handle("GET", "/api/exchanges/{vhost}/{name}/bindings/source", permManagement, a.exchangeSourceBindings)
	a.handle("GET", "/api/exchanges/{vhost}/{name}/bindings/destination", permManagement, a.exchangeDestinationBindings)
}

func (a *api) exchangeJSON(v *broker.VHost, x *broker.Exchange) map[string]any {
	user := "guest"
	if isBuiltinExchange(x.Name) {
		user = "rmq-internal"
	}
	row := map[string]any{
		"name":                      x.Name,
		"vhost":                     v.Name,
		"type":                      x.Type,
		"durable":                   x.Durable,
		"auto_delete":               x.AutoDelete,
		"internal":                  x.Internal,
		"arguments":                 emptyIfNil(tableJSON(x.Args)),
		"user_who_performed_action": user,
	}
	if st := a.rates.exchangeStats(x); st != nil { // rates_exchanges.go
		row["message_stats"] = st
	}
	return row
}

func isBuiltinExchange(name string) bool {
	switch name {
	case "", "amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match":
		return true
	}
	return false
}

func (a *api) writeExchanges(w http.ResponseWriter, r *http.Request, vhosts []*broker.VHost) {
	var rows []map[string]any
	for _, v := range vhosts {
		for _, x := range v.Exchanges() {
			rows = append(rows, a.exchangeJSON(v, x))
		}
	}
	writeList(w, r, rows)
}

func (a *api) listExchanges(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	a.writeExchanges(w, r, a.visibleVHosts(p))
}

func (a *api) listVHostExchanges(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	if v, ok := a.vhostOr404(w, r); ok {
		a.writeExchanges(w, r, []*broker.VHost{v})
	}
}

// exchangeOr404 finds {vhost}/{name}; "amq.default" names the default
// exchange, as in RabbitMQ's paths.
func (a *api) exchangeOr404(w http.ResponseWriter, r *http.Request) (*broker.VHost, *broker.Exchange, bool) {
	v, ok := a.vhostOr404(w, r)
	if !ok {
		return nil, nil, false
	}
	x, ok := v.Exchange(exchangeName(pathValue(r, "name")))
	if !ok {
		writeNotFound(w)
	}
	return v, x, ok
}

func exchangeName(s string) string {
	if s == "amq.default" {
		return ""
	}
	return s
}

func (a *api) getExchange(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	v, x, ok := a.exchangeOr404(w, r)
	if !ok {
		return
	}
	row := a.exchangeJSON(v, x)
	row["incoming"], row["outgoing"] = []any{}, []any{}
	writeJSON(w, selectColumns([]map[string]any{row}, r.URL.Query().Get("columns"))[0])
}

func (a *api) putExchange(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	v, ok := a.b.VHost(pathValue(r, "vhost"))
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "vhost_not_found")
		return
	}
	body, ok := decodeObject(w, r)
	if !ok {
		return
	}
	o := broker.ExchangeDeclareOptions{Name: pathValue(r, "name"), Type: "direct"}
	if t, present := body["type"]; present {
		s, isStr := t.(string)
		if !isStr {
			writeError(w, http.StatusBadRequest, "bad_request", "type must be a string")
			return
		}
		o.Type = s
	}
	for _, f := range []struct {
		key string
		dst *bool
	}{{"durable", &o.Durable}, {"auto_delete", &o.AutoDelete}, {"internal", &o.Internal}} {
		if *f.dst, ok = boolField(w, body, f.key, false); !ok {
			return
		}
	}
	if o.Args, ok = argsTable(body["arguments"]); !ok {
		writeError(w, http.StatusBadRequest, "bad_request", "arguments must be an object")
		return
	}
	_, existed := v.Exchange(o.Name)
	if err := v.ExchangeDeclare(p, o); err != nil {
		var fe *frame.Error
		if errors.As(err, &fe) && fe.Code == frame.CommandInvalid && strings.HasPrefix(fe.Text, "unknown exchange type") {
			// The management API words the AMQP refusal its own way.
			writeError(w, http.StatusBadRequest, "bad_request", "invalid exchange type '"+o.Type+"'")
			return
		}
		writeBrokerError(w, err)
		return
	}
	if existed {
		w.WriteHeader(http.StatusNoContent)
	} else {
		w.WriteHeader(http.StatusCreated)
	}
}

func (a *api) deleteExchange(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	v, x, ok := a.exchangeOr404(w, r)
	if !ok {
		return
	}
	o := broker.ExchangeDeleteOptions{IfUnused: r.URL.Query().Get("if-unused") == "true"}
	if err := v.ExchangeDelete(p, x.Name, o); err != nil {
		writeBrokerError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// publish is POST .../publish: routing_key, payload, payload_encoding
// ("string" or "base64") and properties are required, as in RabbitMQ; the
// answer says whether any queue took the message.
func (a *api) publish(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	v, ok := a.vhostOr404(w, r)
	if !ok {
		return
	}
	name := exchangeName(pathValue(r, "name"))
	x, ok := v.Exchange(name)
	if !ok { // RabbitMQ answers the channel error as a 400
		writeError(w, http.StatusBadRequest, "bad_request", "404 NOT_FOUND - no exchange '"+name+"' in vhost '"+v.Name+"'")
		return
	}
	body, ok := decodeObject(w, r)
	if !ok || !requireKeys(w, body, "routing_key", "properties", "payload", "payload_encoding") {
		return
	}
	key, _ := body["routing_key"].(string)
	payload, _ := body["payload"].(string)
	var data []byte
	switch body["payload_encoding"] {
	case "string":
		data = []byte(payload)
	case "base64":
		var err error
		if data, err = base64.StdEncoding.DecodeString(payload); err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "not_base64")
			return
		}
	default:
		writeError(w, http.StatusBadRequest, "bad_request", "payload_encoding must be string or base64")
		return
	}
	props, ok := propertiesFromJSON(body["properties"])
	if !ok {
		writeError(w, http.StatusBadRequest, "bad_request", "bad properties")
		return
	}
	m := &broker.Message{
		Exchange:   []byte(x.Name),
		RoutingKey: []byte(key),
		Props:      frame.AppendProperties(nil, &props),
		Body:       data,
		Persistent: props.DeliveryMode == 2,
		Timestamp:  time.Now().UnixMilli(),
	}
	res, _, err := v.Publish(p, m, &broker.PublishCache{}, nil)
	if err != nil {
		writeBrokerError(w, err)
		return
	}
	writeJSON(w, map[string]any{"routed": res.Routed > 0})
}

// propertiesFromJSON reads RabbitMQ's message properties object.
func propertiesFromJSON(v any) (frame.Properties, bool) {
	var p frame.Properties
	m, ok := v.(map[string]any)
	if !ok {
		return p, v == nil
	}
	for k, val := range m {
		switch k {
		case "headers":
			t, ok := argsTable(val)
			if !ok {
				return p, false
			}
			p.Headers = t
		case "delivery_mode", "priority", "timestamp":
			n, ok := fieldFromJSON(val).(int64)
			if !ok || n < 0 {
				return p, false
			}
			switch k {
			case "delivery_mode":
				p.DeliveryMode = uint8(n)
			case "priority":
				p.Priority = uint8(n)
			default:
				p.Timestamp = uint64(n)
			}
		default:
			s, ok := val.(string)
			if !ok {
				return p, false
			}
			switch k {
			case "content_type":
				p.ContentType = s
			case "content_encoding":
				p.ContentEncoding = s
			case "correlation_id":
				p.CorrelationID = s
			case "reply_to":
				p.ReplyTo = s
			case "expiration":
				p.Expiration = s
			case "message_id":
				p.MessageID = s
			case "type":
				p.Type = s
			case "user_id":
				p.UserID = s
			case "app_id":
				p.AppID = s
			case "cluster_id":
				p.ClusterID = s
			}
		}
	}
	return p, true
}

// propertiesJSON is the inverse, for messages got through the API.
func propertiesJSON(p frame.Properties) map[string]any {
	out := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			out[k] = v
		}
	}
	set("content_type", p.ContentType)
	set("content_encoding", p.ContentEncoding)
	set("correlation_id", p.CorrelationID)
	set("reply_to", p.ReplyTo)
	set("expiration", p.Expiration)
	set("message_id", p.MessageID)
	set("type", p.Type)
	set("user_id", p.UserID)
	set("app_id", p.AppID)
	set("cluster_id", p.ClusterID)
	if p.Headers != nil {
		out["headers"] = tableJSON(p.Headers)
	}
	if p.DeliveryMode != 0 {
		out["delivery_mode"] = p.DeliveryMode
	}
	if p.Priority != 0 {
		out["priority"] = p.Priority
	}
	if p.Timestamp != 0 {
		out["timestamp"] = p.Timestamp
	}
	return out
}

func (a *api) exchangeSourceBindings(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	v, x, ok := a.exchangeOr404(w, r)
	if ok {
		writeList(w, r, bindingRows(v, v.BindingsFrom(x.Name)))
	}
}

func (a *api) exchangeDestinationBindings(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	v, x, ok := a.exchangeOr404(w, r)
	if ok {
		writeList(w, r, bindingRows(v, v.BindingsToExchange(x.Name)))
	}
}
