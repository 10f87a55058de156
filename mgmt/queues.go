package mgmt

import (
	"net/http"

	"github.com/warrenmq/warren/broker"
)

// registerQueues serves /api/queues: lists (all, per vhost), one queue,
// declare (PUT: 201, or 204 for an equivalent redeclare), delete (with
// if-empty/if-unused) and purge (DELETE .../contents).
func (a *api) registerQueues() {
	a.handle("GET", "/api/queues", permManagement, a.listQueues)
	a.handle("GET", "/api/queues/{$}", permManagement, a.listQueues)
	a.handle("GET", "/api/queues/{vhost}", permManagement, a.listVHostQueues)
	a.handle("GET", "/api/queues/{vhost}/{name}", permManagement, a.getQueue)
	a.handle("PUT", "/api/queues/{vhost}/{name}", permManagement, a.putQueue)
	a.handle("DELETE", "/api/queues/{vhost}/{name}", permManagement, a.deleteQueue)
	a.handle("DELETE", "/api/queues/{vhost}/{name}/contents", permManagement, a.purgeQueue)
	a.handle("POST", "/api/queues/{vhost}/{name}/get", permManagement, a.getMessages)
}

func (a *api) queueJSON(v *broker.VHost, q *broker.Queue) map[string]any {
	policy, opPolicy, def := v.EffectivePolicy(q.Name)
	ready, unacked := q.Ready(), q.Unacked()
	qtype := "classic"
	if t, ok := q.Args["x-queue-type"].(string); ok && t != "" {
		qtype = t
	}
	return map[string]any{
		"name":                        q.Name,
		"vhost":                       v.Name,
		"node":                        a.cfg.Node,
		"durable":                     q.Durable,
		"auto_delete":                 q.AutoDelete,
		"exclusive":                   q.Exclusive,
		"arguments":                   emptyIfNil(tableJSON(q.Args)),
		"type":                        qtype,
		"state":                       "running",
		"consumers":                   q.ConsumerCount(),
		"messages":                    ready + unacked,
		"messages_ready":              ready,
		"messages_unacknowledged":     unacked,
		"policy":                      nullIfEmpty(policy),
		"operator_policy":             nullIfEmpty(opPolicy),
		"effective_policy_definition": def,
		"message_stats":               a.rates.queueStats(q),
	}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (a *api) writeQueues(w http.ResponseWriter, r *http.Request, vhosts []*broker.VHost) {
	var rows []map[string]any
	for _, v := range vhosts {
		for _, q := range v.Queues() {
			rows = append(rows, a.queueJSON(v, q))
		}
	}
	writeList(w, r, rows)
}

func (a *api) listQueues(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	a.writeQueues(w, r, a.b.VHosts())
}

func (a *api) listVHostQueues(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	if v, ok := a.vhostOr404(w, r); ok {
		a.writeQueues(w, r, []*broker.VHost{v})
	}
}

func (a *api) queueOr404(w http.ResponseWriter, r *http.Request) (*broker.VHost, *broker.Queue, bool) {
	v, ok := a.vhostOr404(w, r)
	if !ok {
		return nil, nil, false
	}
	q, ok := v.QueueByName(pathValue(r, "name"))
	if !ok {
		writeNotFound(w)
	}
	return v, q, ok
}

func (a *api) getQueue(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	v, q, ok := a.queueOr404(w, r)
	if !ok {
		return
	}
	row := a.queueJSON(v, q)
	row["consumer_details"] = a.consumerRows(func(c *broker.Consumer) bool { return c.Queue == q })
	writeJSON(w, selectColumns([]map[string]any{row}, r.URL.Query().Get("columns"))[0])
}

func (a *api) putQueue(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	v, ok := a.b.VHost(pathValue(r, "vhost"))
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "vhost_not_found")
		return
	}
	body, ok := decodeObject(w, r)
	if !ok {
		return
	}
	durable, ok := boolField(w, body, "durable", false)
	if !ok {
		return
	}
	autoDelete, ok := boolField(w, body, "auto_delete", false)
	if !ok {
		return
	}
	args, ok := argsTable(body["arguments"])
	if !ok {
		writeError(w, http.StatusBadRequest, "bad_request", "arguments must be an object")
		return
	}
	name := pathValue(r, "name")
	_, existed := v.QueueByName(name)
	if _, err := v.QueueDeclare(p, broker.QueueDeclareOptions{Name: name, Durable: durable, AutoDelete: autoDelete, Args: args}); err != nil {
		writeBrokerError(w, err)
		return
	}
	if existed {
		w.WriteHeader(http.StatusNoContent)
	} else {
		w.WriteHeader(http.StatusCreated)
	}
}

func (a *api) deleteQueue(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	v, q, ok := a.queueOr404(w, r)
	if !ok {
		return
	}
	qs := r.URL.Query()
	o := broker.QueueDeleteOptions{IfEmpty: qs.Get("if-empty") == "true", IfUnused: qs.Get("if-unused") == "true"}
	// Management may delete an exclusive queue: act as its owner.
	if _, err := v.QueueDelete(p, q.Name, o, q.Owner); err != nil {
		writeBrokerError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) purgeQueue(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	_, q, ok := a.queueOr404(w, r)
	if !ok {
		return
	}
	q.Purge()
	w.WriteHeader(http.StatusNoContent)
}
