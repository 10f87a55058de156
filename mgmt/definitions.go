package mgmt

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/warrenmq/warren/broker"
)

// maxDefinitions bounds an imported definitions document (100k objects
// fit).
const maxDefinitions = 256 << 20

// registerDefinitions serves /api/definitions (the whole broker) and
// /api/definitions/{vhost} in RabbitMQ's export format: GET exports, POST
// imports the same JSON (RabbitMQ's own exports load).
func (a *api) registerDefinitions() {
	a.handle("GET", "/api/definitions", permAdmin, a.exportAll)
	a.handle("GET", "/api/definitions/{$}", permAdmin, a.exportAll)
	a.handle("POST", "/api/definitions", permAdmin, a.importAll)
	a.handle("POST", "/api/definitions/{$}", permAdmin, a.importAll)
	a.handle("GET", "/api/definitions/{vhost}", permAdmin, a.exportVHost)
	a.handle("POST", "/api/definitions/{vhost}", permAdmin, a.importVHost)
}

// vhostDefinitions are one vhost's queues, exchanges, bindings and
// policies as exported; withVHost adds the "vhost" key each object has in
// a whole-broker export.
func vhostDefinitions(v *broker.VHost, withVHost bool) (queues, exchanges, bindings []map[string]any, policies []broker.Policy) {
	tag := func(m map[string]any) map[string]any {
		if withVHost {
			m["vhost"] = v.Name
		}
		return m
	}
	exclusive := map[string]bool{}
	for _, q := range v.Queues() {
		if q.Exclusive { // belongs to a connection: not a definition
			exclusive[q.Name] = true
			continue
		}
		queues = append(queues, tag(map[string]any{
			"name": q.Name, "durable": q.Durable, "auto_delete": q.AutoDelete, "arguments": emptyIfNil(tableJSON(q.Args)),
		}))
	}
	for _, x := range v.Exchanges() {
		if isBuiltinExchange(x.Name) {
			continue
		}
		exchanges = append(exchanges, tag(map[string]any{
			"name": x.Name, "type": x.Type, "durable": x.Durable, "auto_delete": x.AutoDelete,
			"internal": x.Internal, "arguments": emptyIfNil(tableJSON(x.Args)),
		}))
	}
	for _, b := range v.Bindings() {
		if b.Source == "" || (b.DestType == "queue" && exclusive[b.Destination]) {
			continue
		}
		bindings = append(bindings, tag(map[string]any{
			"source": b.Source, "destination": b.Destination, "destination_type": b.DestType,
			"routing_key": b.Key, "arguments": emptyIfNil(tableJSON(b.Args)),
		}))
	}
	return queues, exchanges, bindings, v.Policies(broker.UserPolicy)
}

func nonNilRows(rows []map[string]any) []map[string]any {
	if rows == nil {
		return []map[string]any{}
	}
	return rows
}

func download(w http.ResponseWriter, r *http.Request) {
	if name := r.URL.Query().Get("download"); name != "" {
		w.Header().Set("Content-Disposition", "attachment; filename="+name)
	}
}

func (a *api) exportAll(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	var queues, exchanges, bindings []map[string]any
	policies := []broker.Policy{}
	vhosts := []map[string]any{}
	users := []map[string]any{}
	perms := a.permissions(everyone)
	topicPerms := a.topicPermissions(everyone)
	for _, u := range a.b.Users().List() {
		users = append(users, userJSON(u))
	}
	for _, v := range a.b.VHostObjects() {
		vhosts = append(vhosts, map[string]any{"name": v.Name})
		q, x, b, p := vhostDefinitions(v, true)
		queues, exchanges, bindings = append(queues, q...), append(exchanges, x...), append(bindings, b...)
		policies = append(policies, p...)
	}
	globals, err := a.globalParameterRows()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal_server_error", err.Error())
		return
	}
	download(w, r)
	writeJSON(w, map[string]any{
		"rabbit_version": managementVersion, "rabbitmq_version": managementVersion,
		"product_name": "Warren", "product_version": a.cfg.Version,
		"users": users, "vhosts": vhosts, "permissions": perms, "topic_permissions": topicPerms,
		"parameters": a.parameterRows(nil, limitsComponent, ""), "global_parameters": globals, "policies": policies,
		"queues": nonNilRows(queues), "exchanges": nonNilRows(exchanges), "bindings": nonNilRows(bindings),
	})
}

func (a *api) exportVHost(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	v, ok := a.vhostOr404(w, r)
	if !ok {
		return
	}
	q, x, b, p := vhostDefinitions(v, false)
	download(w, r)
	writeJSON(w, map[string]any{
		"rabbit_version": managementVersion, "parameters": a.parameterRows(nil, limitsComponent, v.Name), "policies": nonNil(p),
		"queues": nonNilRows(q), "exchanges": nonNilRows(x), "bindings": nonNilRows(b),
	})
}

func (a *api) importAll(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	body, ok := decodeObjectLimit(w, r, maxDefinitions)
	if !ok {
		return
	}
	if err := a.importDefinitions(body, ""); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) importVHost(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	v, ok := a.vhostOr404(w, r)
	if !ok {
		return
	}
	body, ok := decodeObjectLimit(w, r, maxDefinitions)
	if !ok {
		return
	}
	if err := a.importDefinitions(body, v.Name); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// section is one of the document's lists of objects.
func section(body map[string]any, key string) ([]map[string]any, error) {
	v, ok := body[key]
	if !ok || v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s must be a list", key)
	}
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s must hold objects", key)
		}
		out = append(out, m)
	}
	return out, nil
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func flag(m map[string]any, key string) bool {
	b, _ := m[key].(bool)
	return b
}

// importDefinitions loads a definitions document in RabbitMQ's order:
// vhosts, users, permissions and topic permissions (the broker's
// ImportDefinitions, for a whole-broker import only, as RabbitMQ's
// per-vhost import skips them), then parameters, policies, queues,
// exchanges, bindings; global parameters after the parameters. vhost is the path's vhost for a per-vhost import
// ("" for the whole broker, where each object names its vhost). Objects
// are declared as the broker itself (a nil principal), as RabbitMQ's
// import bypasses the importing user's permissions. What Warren cannot
// hold faithfully (runtime parameters of other components) is refused by name rather than
// dropped.
func (a *api) importDefinitions(body map[string]any, vhost string) error {
	sections := map[string][]map[string]any{}
	for _, k := range []string{"users", "vhosts", "permissions", "topic_permissions", "parameters", "global_parameters", "policies", "queues", "exchanges", "bindings"} {
		s, err := section(body, k)
		if err != nil {
			return err
		}
		sections[k] = s
	}
	vhostOf := func(m map[string]any) (*broker.VHost, error) {
		name := vhost
		if name == "" {
			name = str(m, "vhost")
		}
		v, ok := a.b.VHost(name)
		if !ok {
			return nil, fmt.Errorf("vhost '%s' does not exist", name)
		}
		return v, nil
	}
	if vhost == "" {
		access, err := json.Marshal(map[string]any{
			"vhosts": sections["vhosts"], "users": sections["users"],
			"permissions": sections["permissions"], "topic_permissions": sections["topic_permissions"],
			"parameters": sections["parameters"], // vhost-limits, which the broker sets and stores (not again in importParameters)
		})
		if err == nil {
			err = a.b.ImportDefinitions(access)
		}
		if err != nil {
			return err
		}
	}
	if err := a.importParameters(sections["parameters"], vhost); err != nil { // parameters.go
		return err
	}
	if vhost == "" { // a per-vhost import has none, as in RabbitMQ
		if err := a.importGlobalParameters(sections["global_parameters"]); err != nil { // global_parameters.go
			return err
		}
	}
	for _, pol := range sections["policies"] {
		v, err := vhostOf(pol)
		if err != nil {
			return err
		}
		parsed, err := broker.ParsePolicy(broker.UserPolicy, v.Name, str(pol, "name"), pol)
		if err == nil {
			_, err = v.SetPolicy(broker.UserPolicy, parsed)
		}
		if err != nil {
			return fmt.Errorf("policy '%s': %v", str(pol, "name"), err)
		}
	}
	for _, q := range sections["queues"] {
		v, err := vhostOf(q)
		if err != nil {
			return err
		}
		args, ok := argsTable(q["arguments"])
		if !ok {
			return fmt.Errorf("queue '%s': arguments must be an object", str(q, "name"))
		}
		if _, err := v.QueueDeclare(nil, broker.QueueDeclareOptions{Name: str(q, "name"), Durable: flag(q, "durable"), AutoDelete: flag(q, "auto_delete"), Args: args}); err != nil {
			return fmt.Errorf("queue '%s': %v", str(q, "name"), err)
		}
	}
	for _, x := range sections["exchanges"] {
		v, err := vhostOf(x)
		if err != nil {
			return err
		}
		args, ok := argsTable(x["arguments"])
		if !ok {
			return fmt.Errorf("exchange '%s': arguments must be an object", str(x, "name"))
		}
		o := broker.ExchangeDeclareOptions{Name: str(x, "name"), Type: str(x, "type"), Durable: flag(x, "durable"), AutoDelete: flag(x, "auto_delete"), Internal: flag(x, "internal"), Args: args}
		if err := v.ExchangeDeclare(nil, o); err != nil {
			return fmt.Errorf("exchange '%s': %v", o.Name, err)
		}
	}
	for _, b := range sections["bindings"] {
		v, err := vhostOf(b)
		if err != nil {
			return err
		}
		args, ok := argsTable(b["arguments"])
		if !ok {
			return fmt.Errorf("binding from '%s': arguments must be an object", str(b, "source"))
		}
		bd := broker.Binding{Source: str(b, "source"), Destination: str(b, "destination"), Key: str(b, "routing_key"), Args: args}
		if str(b, "destination_type") == "exchange" {
			err = v.ExchangeBind(nil, bd)
		} else {
			q, ok := v.QueueByName(bd.Destination)
			owner := uint64(0)
			if ok {
				owner = q.Owner
			}
			err = v.QueueBind(nil, bd, owner)
		}
		if err != nil {
			return fmt.Errorf("binding from '%s' to '%s': %v", bd.Source, bd.Destination, err)
		}
	}
	return nil
}

// userTags reads tags as RabbitMQ 3.10 exports them (a list) or as older
// versions did (a comma-separated string).
func userTags(v any) []string {
	switch t := v.(type) {
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	case string:
		var out []string
		for s := range strings.SplitSeq(t, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
