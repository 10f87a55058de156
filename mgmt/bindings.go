package mgmt

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"net/http"
	"net/url"
	"strings"

	"github.com/warrenmq/warren/broker"
)

// registerBindings serves /api/bindings (all, per vhost), the bindings
// between one source exchange and one destination queue or exchange
// (GET, POST to create, with the new binding's path in Location), one
// binding by its properties_key (GET, DELETE), and a queue's bindings.
func (a *api) registerBindings() {
	a.handle("GET", "/api/bindings", permManagement, a.listBindings)
	a.handle("GET", "/api/bindings/{$}", permManagement, a.listBindings)
	a.handle("GET", "/api/bindings/{vhost}", permManagement, a.listVHostBindings)
	a.handle("GET", "/api/queues/{vhost}/{name}/bindings", permManagement, a.queueBindings)
	for _, kind := range []string{"q", "e"} {
		base := "/api/bindings/{vhost}/e/{source}/" + kind + "/{dest}"
		h := bindingHandlers{a, kind}
		a.handle("GET", base, permManagement, h.list)
		a.handle("POST", base, permManagement, h.create)
		a.handle("GET", base+"/{props}", permManagement, h.get)
		a.handle("DELETE", base+"/{props}", permManagement, h.delete)
	}
}

// propertiesKey names a binding within its source and destination as
// RabbitMQ does: the routing key quoted as a query value ("~" for the
// empty key), and "~" and a hash of the arguments
// when there are any. The hash is Warren's own (RabbitMQ's is of the
// Erlang term); clients take the key from the listing.
func propertiesKey(b broker.BindingView) string {
	key := url.QueryEscape(b.Key) // RabbitMQ's quote_plus of the key
	if len(b.Args) == 0 {
		if key == "" {
			return "~" // RabbitMQ's key for the empty routing key
		}
		return key
	}
	data, _ := json.Marshal(tableJSON(b.Args)) // map keys sorted: canonical
	h := fnv.New32a()
	h.Write(data)
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], h.Sum32())
	return key + "~" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// propsMatch says whether props names b: its properties_key, or, as
// RabbitMQ unquotes the key part, the routing key as written ("k.*" for
// the properties_key "k.%2A").
func propsMatch(b broker.BindingView, props string) bool {
	pk := propertiesKey(b)
	if pk == props {
		return true
	}
	key, hash := props, ""
	if len(b.Args) > 0 {
		i := strings.LastIndex(props, "~")
		if i < 0 {
			return false
		}
		key, hash = props[:i], props[i:]
	}
	if k, err := url.QueryUnescape(key); err == nil {
		key = k
	}
	return key == b.Key && strings.HasSuffix(pk, hash) && (hash != "" || len(b.Args) == 0)
}

func bindingJSON(v *broker.VHost, b broker.BindingView) map[string]any {
	return map[string]any{
		"source":           b.Source,
		"vhost":            v.Name,
		"destination":      b.Destination,
		"destination_type": b.DestType,
		"routing_key":      b.Key,
		"arguments":        emptyIfNil(tableJSON(b.Args)),
		"properties_key":   propertiesKey(b),
	}
}

func bindingRows(v *broker.VHost, bs []broker.BindingView) []map[string]any {
	rows := make([]map[string]any, 0, len(bs))
	for _, b := range bs {
		rows = append(rows, bindingJSON(v, b))
	}
	return rows
}

func (a *api) listBindings(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	var rows []map[string]any
	for _, v := range a.visibleVHosts(p) {
		rows = append(rows, bindingRows(v, v.Bindings())...)
	}
	writeList(w, r, rows)
}

func (a *api) listVHostBindings(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	if v, ok := a.vhostOr404(w, r); ok {
		writeList(w, r, bindingRows(v, v.Bindings()))
	}
}

func (a *api) queueBindings(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	if v, q, ok := a.queueOr404(w, r); ok {
		writeList(w, r, bindingRows(v, v.BindingsToQueue(q)))
	}
}

type bindingHandlers struct {
	a    *api
	kind string // "q" or "e": the destination is a queue or an exchange
}

func (h bindingHandlers) destType() string {
	if h.kind == "q" {
		return "queue"
	}
	return "exchange"
}

// between lists the bindings from {source} to {dest}; ok false: the 404
// has been written (a missing vhost, source or destination).
func (h bindingHandlers) between(w http.ResponseWriter, r *http.Request) (*broker.VHost, string, string, []broker.BindingView, bool) {
	v, ok := h.a.vhostOr404(w, r)
	if !ok {
		return nil, "", "", nil, false
	}
	src, dst := exchangeName(pathValue(r, "source")), pathValue(r, "dest")
	if _, ok := v.Exchange(src); !ok {
		writeNotFound(w)
		return nil, "", "", nil, false
	}
	var all []broker.BindingView
	if h.kind == "q" {
		q, ok := v.QueueByName(dst)
		if !ok {
			writeNotFound(w)
			return nil, "", "", nil, false
		}
		all = v.BindingsToQueue(q)
	} else {
		if _, ok := v.Exchange(dst); !ok {
			writeNotFound(w)
			return nil, "", "", nil, false
		}
		all = v.BindingsToExchange(dst)
	}
	var out []broker.BindingView
	for _, b := range all {
		if b.Source == src && b.DestType == h.destType() {
			out = append(out, b)
		}
	}
	return v, src, dst, out, true
}

func (h bindingHandlers) list(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	if v, _, _, bs, ok := h.between(w, r); ok {
		writeList(w, r, bindingRows(v, bs))
	}
}

func (h bindingHandlers) find(w http.ResponseWriter, r *http.Request) (*broker.VHost, broker.BindingView, bool) {
	v, _, _, bs, ok := h.between(w, r)
	if !ok {
		return nil, broker.BindingView{}, false
	}
	props := pathValue(r, "props")
	for _, b := range bs {
		if propsMatch(b, props) {
			return v, b, true
		}
	}
	writeNotFound(w)
	return nil, broker.BindingView{}, false
}

func (h bindingHandlers) get(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	if v, b, ok := h.find(w, r); ok {
		writeJSON(w, bindingJSON(v, b))
	}
}

func (h bindingHandlers) create(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	v, src, dst, _, ok := h.between(w, r)
	if !ok {
		return
	}
	body, ok := decodeObject(w, r)
	if !ok {
		return
	}
	key, _ := body["routing_key"].(string)
	args, ok := argsTable(body["arguments"])
	if !ok {
		writeError(w, http.StatusBadRequest, "bad_request", "arguments must be an object")
		return
	}
	b := broker.Binding{Source: src, Destination: dst, Key: key, Args: args}
	var err error
	if h.kind == "q" {
		q, _ := v.QueueByName(dst)
		err = v.QueueBind(p, b, q.Owner)
	} else {
		err = v.ExchangeBind(p, b)
	}
	if err != nil {
		writeBrokerError(w, err)
		return
	}
	pk := propertiesKey(broker.BindingView{Key: key, Args: args})
	w.Header().Set("Location", url.PathEscape(dst)+"/"+url.PathEscape(pk))
	w.WriteHeader(http.StatusCreated)
}

func (h bindingHandlers) delete(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	v, bv, ok := h.find(w, r)
	if !ok {
		return
	}
	b := broker.Binding{Source: bv.Source, Destination: bv.Destination, Key: bv.Key, Args: bv.Args}
	var err error
	if h.kind == "q" {
		q, _ := v.QueueByName(bv.Destination)
		if q == nil {
			writeNotFound(w)
			return
		}
		err = v.QueueUnbind(p, b, q.Owner)
	} else {
		err = v.ExchangeUnbind(p, b)
	}
	if err != nil {
		writeBrokerError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
