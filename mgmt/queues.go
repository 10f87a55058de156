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

// queueJSON is a queue as RabbitMQ's management API shows it, as a map
// (for sorting on any column and selecting columns).
func (a *api) queueJSON(v *broker.VHost, q *broker.Queue) map[string]any {
	row := a.queueRowOf(v, q)
	m := map[string]any{
		"name":                        row.Name,
		"vhost":                       row.VHost,
		"node":                        row.Node,
		"durable":                     row.Durable,
		"auto_delete":                 row.AutoDelete,
		"exclusive":                   row.Exclusive,
		"arguments":                   row.Arguments,
		"type":                        row.Type,
		"state":                       row.State,
		"consumers":                   row.Consumers,
		"messages":                    row.Messages,
		"messages_ready":              row.MessagesReady,
		"messages_unacknowledged":     row.MessagesUnacknowledged,
		"policy":                      row.Policy,
		"operator_policy":             row.OperatorPolicy,
		"effective_policy_definition": row.EffectivePolicyDefinition,
		"message_stats":               row.MessageStats.asMap(),
	}
	m["memory"], m["message_bytes"] = row.Memory, row.MessageBytes
	m["message_bytes_ready"], m["message_bytes_unacknowledged"] = row.MessageBytesReady, row.MessageBytesUnacked
	if row.IdleSince != "" {
		m["idle_since"] = row.IdleSince
	}
	if row.Stream != nil { // stream_stats.go
		m["members"], m["online"], m["readers"], m["stream"] = row.Members, row.Online, row.Readers, row.Stream
	}
	return m
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (a *api) writeQueues(w http.ResponseWriter, r *http.Request, vhosts []*broker.VHost) {
	type entry struct {
		v *broker.VHost
		q *broker.Queue
	}
	var all []entry
	for _, v := range vhosts {
		for _, q := range v.Queues() {
			all = append(all, entry{v, q})
		}
	}
	// Each row is read from its queue at most once per request (a sort
	// reads every row, the page then encodes some of them again).
	rows := make([]*queueRow, len(all))
	row := func(i int) *queueRow {
		if rows[i] == nil {
			r := a.queueRowOf(all[i].v, all[i].q)
			rows[i] = &r
		}
		return rows[i]
	}
	lister{
		n:     len(all),
		name:  func(i int) string { return all[i].q.Name },
		asMap: func(i int) map[string]any { return a.queueJSON(all[i].v, all[i].q) },
		fast:  func(i int) any { return row(i) },
		field: func(i int, path []string) (any, bool) { return row(i).field(path) }, // queues_fields.go
	}.write(w, r)
}

// queueRow is queueJSON's map as a struct, fields in the map's (sorted)
// key order, which encodes several times faster for long lists.
type queueRow struct {
	Arguments                 map[string]any `json:"arguments"`
	AutoDelete                bool           `json:"auto_delete"`
	Consumers                 int            `json:"consumers"`
	Durable                   bool           `json:"durable"`
	EffectivePolicyDefinition map[string]any `json:"effective_policy_definition"`
	Exclusive                 bool           `json:"exclusive"`
	IdleSince                 string         `json:"idle_since,omitempty"` // idle.go
	Memory                    int64          `json:"memory"`
	MessageBytes              int64          `json:"message_bytes"`
	MessageBytesReady         int64          `json:"message_bytes_ready"`
	MessageBytesUnacked       int64          `json:"message_bytes_unacknowledged"`
	Members                   []string       `json:"members,omitempty"` // streams: as RabbitMQ, this node
	MessageStats              messageStats   `json:"message_stats"`
	Messages                  int64          `json:"messages"`
	MessagesReady             int64          `json:"messages_ready"`
	MessagesUnacknowledged    int64          `json:"messages_unacknowledged"`
	Name                      string         `json:"name"`
	Node                      string         `json:"node"`
	Online                    []string       `json:"online,omitempty"`
	OperatorPolicy            any            `json:"operator_policy"`
	Policy                    any            `json:"policy"`
	Readers                   map[string]int `json:"readers,omitempty"`
	State                     string         `json:"state"`
	Stream                    *streamView    `json:"stream,omitempty"` // Warren's: offsets, segments
	Type                      string         `json:"type"`
	VHost                     string         `json:"vhost"`
}

func (a *api) queueRowOf(v *broker.VHost, q *broker.Queue) queueRow {
	policy, opPolicy, def := v.EffectivePolicy(q.Name)
	ready, unacked := q.Ready(), q.Unacked()
	qb := q.Bytes() // one lock of the queue for its bytes and memory
	qtype := "classic"
	if t, ok := q.Args["x-queue-type"].(string); ok && t != "" {
		qtype = t
	}
	row := queueRow{
		Arguments: emptyIfNil(tableJSON(q.Args)), AutoDelete: q.AutoDelete, Consumers: q.ConsumerCount(),
		Durable: q.Durable, EffectivePolicyDefinition: def, Exclusive: q.Exclusive,
		Memory: qb.Memory, MessageBytes: qb.Ready + qb.Unacked, MessageBytesReady: qb.Ready, MessageBytesUnacked: qb.Unacked,
		MessageStats: a.rates.queueStats(q), IdleSince: a.rates.queueIdleSince(q),
		Messages: ready + unacked, MessagesReady: ready, MessagesUnacknowledged: unacked,
		Name: q.Name, Node: a.cfg.Node, OperatorPolicy: nullIfEmpty(opPolicy), Policy: nullIfEmpty(policy),
		State: "running", Type: qtype, VHost: v.Name,
	}
	if st, ok := q.StreamStats(); ok {
		a.addStreamView(&row, st)
	}
	return row
}

func (a *api) listQueues(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	a.writeQueues(w, r, a.visibleVHosts(p))
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
	v, q, ok := a.queueOr404(w, r)
	if !ok || streamRefused(w, v, q, "", "queue.purge") {
		return
	}
	q.Purge()
	w.WriteHeader(http.StatusNoContent)
}
