package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"unicode/utf8"
)

func (e *cmdEnv) vhostWhat() string { return "vhost '" + e.o.vhost + "'" }

// jsonObject reads a flag's JSON object ("" is none).
func jsonObject(flagName, s string) (map[string]any, error) {
	if s == "" {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, fail(exitUsage, "--%s: want a JSON object such as '{\"x-max-length\": 10}': %q", flagName, s)
	}
	return m, nil
}

func (e *cmdEnv) done(format string, args ...any) error {
	if !e.o.json {
		fmt.Fprintf(e.stdout, format+"\n", args...)
	}
	return nil
}

// act makes the change a command asks for (call's method, path, query and
// body; what names the object for a 404) and then says done.
func (e *cmdEnv) act(method, p string, query url.Values, body any, what, done string) error {
	if err := e.c.call(method, p, query, body, nil, what); err != nil {
		return err
	}
	return e.done(done)
}

func objectCommands() []command {
	return []command{
		{words: "declare queue", args: "NAME", min: 1, max: 1, help: "declare a queue (--durable --auto-delete --type --arguments)", run: (*cmdEnv).declareQueue},
		{words: "declare exchange", args: "NAME", min: 1, max: 1, help: "declare an exchange (--type direct|fanout|topic|headers... --durable --auto-delete --internal --arguments)", run: (*cmdEnv).declareExchange},
		{words: "delete queue", args: "NAME", min: 1, max: 1, help: "delete a queue (--if-empty --if-unused)", run: (*cmdEnv).deleteQueue},
		{words: "delete exchange", args: "NAME", min: 1, max: 1, help: "delete an exchange (--if-unused)", run: (*cmdEnv).deleteExchange},
		{words: "purge queue", args: "NAME", min: 1, max: 1, help: "drop a queue's ready messages", run: (*cmdEnv).purgeQueue},
		{words: "bind", args: "SOURCE DESTINATION", min: 2, max: 2, help: "bind (--destination-type queue|exchange --routing-key --arguments)", run: (*cmdEnv).bind},
		{words: "unbind", args: "SOURCE DESTINATION", min: 2, max: 2, help: "remove the binding with that --routing-key and --arguments", run: (*cmdEnv).unbind},
		{words: "publish", args: "", min: 0, max: 0, help: "publish --payload (or standard input) to --exchange with --routing-key; exit 7 if not routed", run: (*cmdEnv).publish},
		{words: "get", args: "QUEUE", min: 1, max: 1, help: "get --count messages (--ackmode, default ack_requeue_true: look, put back)", run: (*cmdEnv).get},
		{words: "close connection", args: "NAME", min: 1, max: 1, help: "close a client connection (--reason)", run: (*cmdEnv).closeConnection},
	}
}

func (e *cmdEnv) declareQueue(args []string) error {
	a, err := jsonObject("arguments", e.o.arguments)
	if err != nil {
		return err
	}
	if e.o.typ != "" {
		a["x-queue-type"] = e.o.typ
	}
	body := map[string]any{"durable": e.o.durable, "auto_delete": e.o.autoDelete, "arguments": a}
	return e.act("PUT", path("queues", e.o.vhost, args[0]), nil, body, e.vhostWhat(), "queue declared")
}

func (e *cmdEnv) declareExchange(args []string) error {
	a, err := jsonObject("arguments", e.o.arguments)
	if err != nil {
		return err
	}
	typ := e.o.typ
	if typ == "" {
		return fail(exitUsage, "declare exchange: --type is required (direct, fanout, topic, headers...)")
	}
	body := map[string]any{"type": typ, "durable": e.o.durable, "auto_delete": e.o.autoDelete, "internal": e.o.internal, "arguments": a}
	return e.act("PUT", path("exchanges", e.o.vhost, args[0]), nil, body, e.vhostWhat(), "exchange declared")
}

func (e *cmdEnv) deleteQueue(args []string) error {
	q := map[string][]string{}
	if e.o.ifEmpty {
		q["if-empty"] = []string{"true"}
	}
	if e.o.ifUnused {
		q["if-unused"] = []string{"true"}
	}
	return e.act("DELETE", path("queues", e.o.vhost, args[0]), q, nil, "queue '"+args[0]+"' in "+e.vhostWhat(), "queue deleted")
}

func (e *cmdEnv) deleteExchange(args []string) error {
	q := map[string][]string{}
	if e.o.ifUnused {
		q["if-unused"] = []string{"true"}
	}
	return e.act("DELETE", path("exchanges", e.o.vhost, args[0]), q, nil, "exchange '"+args[0]+"' in "+e.vhostWhat(), "exchange deleted")
}

func (e *cmdEnv) purgeQueue(args []string) error {
	return e.act("DELETE", path("queues", e.o.vhost, args[0], "contents"), nil, nil, "queue '"+args[0]+"' in "+e.vhostWhat(), "queue purged")
}

func (e *cmdEnv) bindingPath(src, dst string) (string, error) {
	switch e.o.destType {
	case "queue", "q":
		return path("bindings", e.o.vhost, "e", src, "q", dst), nil
	case "exchange", "e":
		return path("bindings", e.o.vhost, "e", src, "e", dst), nil
	}
	return "", fail(exitUsage, "--destination-type: queue or exchange, not %q", e.o.destType)
}

func (e *cmdEnv) bind(args []string) error {
	p, err := e.bindingPath(args[0], args[1])
	if err != nil {
		return err
	}
	a, err := jsonObject("arguments", e.o.arguments)
	if err != nil {
		return err
	}
	body := map[string]any{"routing_key": e.o.routingKey, "arguments": a}
	return e.act("POST", p, nil, body, "exchange '"+args[0]+"' or "+e.o.destType+" '"+args[1]+"' in "+e.vhostWhat(), "binding created")
}

// unbind finds the binding's properties key among the bindings between
// the two (RabbitMQ's API deletes by it) and deletes it.
func (e *cmdEnv) unbind(args []string) error {
	p, err := e.bindingPath(args[0], args[1])
	if err != nil {
		return err
	}
	a, err := jsonObject("arguments", e.o.arguments)
	if err != nil {
		return err
	}
	var bindings []map[string]any
	what := "exchange '" + args[0] + "' or " + e.o.destType + " '" + args[1] + "' in " + e.vhostWhat()
	if err := e.c.call("GET", p, nil, nil, &bindings, what); err != nil {
		return err
	}
	want, _ := json.Marshal(normalize(a))
	for _, b := range bindings {
		got, _ := json.Marshal(normalize(b["arguments"]))
		if b["routing_key"] == e.o.routingKey && bytes.Equal(got, want) {
			key, _ := b["properties_key"].(string)
			return e.act("DELETE", p+path(key), nil, nil, "binding", "binding deleted")
		}
	}
	return fail(exitNotFound, "not found: binding of %s to %s '%s' with routing key %q and arguments %s in %s", args[0], e.o.destType, args[1], e.o.routingKey, want, e.vhostWhat())
}

// normalize makes arguments comparable: numbers as float64, {} for none.
func normalize(v any) any {
	data, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(data, &out)
	if out == nil {
		return map[string]any{}
	}
	return out
}

func (e *cmdEnv) publish([]string) error {
	props, err := jsonObject("properties", e.o.properties)
	if err != nil {
		return err
	}
	payload := []byte(e.o.payload)
	if e.o.payload == "" {
		if payload, err = io.ReadAll(e.stdin); err != nil {
			return fail(exitUsage, "reading the payload from standard input: %v", err)
		}
	}
	body := map[string]any{"properties": props, "routing_key": e.o.routingKey}
	if utf8.Valid(payload) {
		body["payload"], body["payload_encoding"] = string(payload), "string"
	} else {
		body["payload"], body["payload_encoding"] = base64.StdEncoding.EncodeToString(payload), "base64"
	}
	x := e.o.exchange
	if x == "" {
		x = "amq.default"
	}
	var out struct {
		Routed bool `json:"routed"`
	}
	if err := e.c.call("POST", path("exchanges", e.o.vhost, x, "publish"), nil, body, &out, "exchange '"+x+"' in "+e.vhostWhat()); err != nil {
		return err
	}
	if e.o.json {
		fmt.Fprintf(e.stdout, "{\"routed\":%t}\n", out.Routed)
	} else if out.Routed {
		fmt.Fprintln(e.stdout, "message published")
	}
	if !out.Routed {
		return fail(exitNegative, "message published but not routed: no queue is bound for routing key %q", e.o.routingKey)
	}
	return nil
}

func (e *cmdEnv) get(args []string) error {
	body := map[string]any{"count": e.o.count, "ackmode": e.o.ackmode, "encoding": e.o.encoding}
	if e.o.truncate >= 0 {
		body["truncate"] = e.o.truncate
	}
	var msgs []map[string]any
	if err := e.c.call("POST", path("queues", e.o.vhost, args[0], "get"), nil, body, &msgs, "queue '"+args[0]+"' in "+e.vhostWhat()); err != nil {
		return err
	}
	cols := []column{
		field("routing_key"), field("exchange"), field("message_count"), field("redelivered"),
		field("payload"), field("payload_bytes"), field("payload_encoding"), field("properties"),
	}
	if e.o.json {
		out, err := json.MarshalIndent(msgs, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", out)
		return err
	}
	if len(msgs) == 0 {
		fmt.Fprintln(e.stderr, "warrenctl: the queue is empty")
		return nil
	}
	return writeTable(e.stdout, msgs, cols)
}

func (e *cmdEnv) closeConnection(args []string) error {
	h := http.Header{}
	if e.o.reason != "" {
		h.Set("X-Reason", e.o.reason)
	}
	if err := e.c.callWith(h, "DELETE", path("connections", args[0]), nil, nil, nil, "connection '"+args[0]+"'"); err != nil {
		return err
	}
	return e.done("connection closed")
}

func accessCommands() []command {
	return []command{
		{words: "add user", args: "NAME PASSWORD", min: 2, max: 2, help: "create a user (--tags administrator,...)", run: (*cmdEnv).addUser},
		{words: "delete user", args: "NAME", min: 1, max: 1, help: "delete a user", run: (*cmdEnv).deleteUser},
		{words: "change password", args: "NAME PASSWORD", min: 2, max: 2, help: "set a user's password, keeping its tags", run: (*cmdEnv).changePassword},
		{words: "set user_tags", args: "NAME [TAG...]", min: 1, max: -1, help: "replace a user's tags, keeping its password", run: (*cmdEnv).setUserTags},
		{words: "add vhost", args: "NAME", min: 1, max: 1, help: "create a virtual host", run: (*cmdEnv).addVHost},
		{words: "delete vhost", args: "NAME", min: 1, max: 1, help: "delete a virtual host and everything in it", run: (*cmdEnv).deleteVHost},
		{words: "set permissions", args: "USER CONFIGURE WRITE READ", min: 4, max: 4, help: "set a user's permissions in --vhost (regular expressions)", run: (*cmdEnv).setPermissions},
		{words: "clear permissions", args: "USER", min: 1, max: 1, help: "remove a user's permissions in --vhost", run: (*cmdEnv).clearPermissions},
		{words: "set policy", args: "NAME PATTERN DEFINITION", min: 3, max: 3, help: "set a policy in --vhost (DEFINITION is JSON; --priority --apply-to)", run: (*cmdEnv).setPolicy},
		{words: "clear policy", args: "NAME", min: 1, max: 1, help: "remove a policy from --vhost", run: (*cmdEnv).clearPolicy},
		{words: "set vhost_limits", args: "JSON", min: 1, max: 1, help: "replace --vhost's limits: '{\"max-connections\": 10, \"max-queues\": 100}'", run: (*cmdEnv).setVHostLimits},
		{words: "clear vhost_limits", args: "", min: 0, max: 0, help: "remove --vhost's limits", run: (*cmdEnv).clearVHostLimits},
		{words: "set user_limits", args: "USER JSON", min: 2, max: 2, help: "set a user's limits: '{\"max-connections\": 10, \"max-channels\": 100}'", run: (*cmdEnv).setUserLimits},
		{words: "clear user_limits", args: "USER [LIMIT...]", min: 1, max: -1, help: "remove a user's limits (all, or those named)", run: (*cmdEnv).clearUserLimits},
	}
}

func (e *cmdEnv) addUser(args []string) error {
	body := map[string]any{"password": args[1], "tags": e.o.tags}
	var existing map[string]any
	err := e.c.call("GET", path("users", args[0]), nil, nil, &existing, "user '"+args[0]+"'")
	if err == nil {
		return fail(exitRefused, "user '%s' already exists (change password / set user_tags change it)", args[0])
	}
	if ce, ok := err.(*cliError); !ok || ce.code != exitNotFound {
		return err
	}
	return e.act("PUT", path("users", args[0]), nil, body, "user '"+args[0]+"'", "user added")
}

func (e *cmdEnv) deleteUser(args []string) error {
	return e.act("DELETE", path("users", args[0]), nil, nil, "user '"+args[0]+"'", "user deleted")
}

func (e *cmdEnv) user(name string) (map[string]any, error) {
	var u map[string]any
	err := e.c.call("GET", path("users", name), nil, nil, &u, "user '"+name+"'")
	return u, err
}

func (e *cmdEnv) changePassword(args []string) error {
	u, err := e.user(args[0])
	if err != nil {
		return err
	}
	body := map[string]any{"password": args[1], "tags": strings.Trim(strings.ReplaceAll(tagList(u["tags"]), ", ", ","), "[]")}
	return e.act("PUT", path("users", args[0]), nil, body, "user '"+args[0]+"'", "password changed")
}

func (e *cmdEnv) setUserTags(args []string) error {
	u, err := e.user(args[0])
	if err != nil {
		return err
	}
	body := map[string]any{"password_hash": u["password_hash"], "hashing_algorithm": u["hashing_algorithm"], "tags": strings.Join(args[1:], ",")}
	return e.act("PUT", path("users", args[0]), nil, body, "user '"+args[0]+"'", "tags set")
}

func (e *cmdEnv) addVHost(args []string) error {
	return e.act("PUT", path("vhosts", args[0]), nil, nil, "vhost '"+args[0]+"'", "vhost added")
}

func (e *cmdEnv) deleteVHost(args []string) error {
	return e.act("DELETE", path("vhosts", args[0]), nil, nil, "vhost '"+args[0]+"'", "vhost deleted")
}

func (e *cmdEnv) setPermissions(args []string) error {
	body := map[string]any{"configure": args[1], "write": args[2], "read": args[3]}
	return e.act("PUT", path("permissions", e.o.vhost, args[0]), nil, body, "user '"+args[0]+"' or "+e.vhostWhat(), "permissions set")
}

func (e *cmdEnv) clearPermissions(args []string) error {
	return e.act("DELETE", path("permissions", e.o.vhost, args[0]), nil, nil, "permissions of user '"+args[0]+"' in "+e.vhostWhat(), "permissions cleared")
}

func (e *cmdEnv) setPolicy(args []string) error {
	def, err := jsonObject("definition", args[2])
	if err != nil {
		return fail(exitUsage, "set policy: DEFINITION must be a JSON object such as '{\"max-length\": 100}': %q", args[2])
	}
	body := map[string]any{"pattern": args[1], "definition": def, "priority": e.o.priority, "apply-to": e.o.applyTo}
	return e.act("PUT", path("policies", e.o.vhost, args[0]), nil, body, e.vhostWhat(), "policy set")
}

func (e *cmdEnv) clearPolicy(args []string) error {
	return e.act("DELETE", path("policies", e.o.vhost, args[0]), nil, nil, "policy '"+args[0]+"' in "+e.vhostWhat(), "policy cleared")
}

func (e *cmdEnv) setVHostLimits(args []string) error {
	l, err := jsonObject("limits", args[0])
	if err != nil {
		return fail(exitUsage, "set vhost_limits: want a JSON object such as '{\"max-queues\": 100}': %q", args[0])
	}
	return e.act("PUT", path("parameters", "vhost-limits", e.o.vhost, "limits"), nil, map[string]any{"value": l}, e.vhostWhat(), "limits set")
}

func (e *cmdEnv) clearVHostLimits([]string) error {
	return e.act("DELETE", path("parameters", "vhost-limits", e.o.vhost, "limits"), nil, nil, "limits of "+e.vhostWhat(), "limits cleared")
}

func (e *cmdEnv) setUserLimits(args []string) error {
	l, err := jsonObject("limits", args[1])
	if err != nil {
		return fail(exitUsage, "set user_limits: want a JSON object such as '{\"max-connections\": 10}': %q", args[1])
	}
	names := make([]string, 0, len(l))
	for k := range l {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := e.c.call("PUT", path("user-limits", args[0], k), nil, map[string]any{"value": l[k]}, nil, "user '"+args[0]+"'"); err != nil {
			return err
		}
	}
	return e.done("limits set")
}

func (e *cmdEnv) clearUserLimits(args []string) error {
	names := args[1:]
	if len(names) == 0 {
		var rows []struct {
			Value map[string]any `json:"value"`
		}
		if err := e.c.call("GET", path("user-limits", args[0]), nil, nil, &rows, "user '"+args[0]+"'"); err != nil {
			return err
		}
		for _, r := range rows {
			for k := range r.Value {
				names = append(names, k)
			}
		}
	}
	for _, k := range names {
		if err := e.c.call("DELETE", path("user-limits", args[0], k), nil, nil, nil, "user '"+args[0]+"'"); err != nil {
			return err
		}
	}
	return e.done("limits cleared")
}

func adminCommands() []command {
	return []command{
		{words: "export", args: "[FILE]", min: 0, max: 1, help: "write the definitions (of --vhost if given) to FILE or standard output", run: (*cmdEnv).export},
		{words: "import", args: "FILE", min: 1, max: 1, help: "load definitions from FILE (- is standard input) (into --vhost if given)", run: (*cmdEnv).importDefs},
		{words: "status", args: "", min: 0, max: 0, help: "the node: versions, uptime, listeners, memory, disk, alarms, totals", run: (*cmdEnv).status},
		{words: "health", args: "[CHECK...]", min: 0, max: -1, help: "health checks (alarms local-alarms virtual-hosts node-is-quorum-critical port-listener:N aliveness); exit 7 if one fails", run: (*cmdEnv).health},
	}
}

func (e *cmdEnv) definitionsPath() string {
	if e.o.vhostSet {
		return path("definitions", e.o.vhost)
	}
	return "/definitions"
}

func (e *cmdEnv) export(args []string) error {
	var doc map[string]any
	if err := e.c.call("GET", e.definitionsPath(), nil, nil, &doc, e.vhostWhat()); err != nil {
		return err
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	out = append(out, '\n')
	if len(args) == 0 || args[0] == "-" {
		_, err = e.stdout.Write(out)
		return err
	}
	if err := os.WriteFile(args[0], out, 0o600); err != nil {
		return fail(exitRefused, "writing %s: %v", args[0], err)
	}
	fmt.Fprintf(e.stderr, "definitions written to %s\n", args[0])
	return nil
}

func (e *cmdEnv) importDefs(args []string) error {
	var data []byte
	var err error
	if args[0] == "-" {
		data, err = io.ReadAll(e.stdin)
	} else {
		data, err = os.ReadFile(args[0])
	}
	if err != nil {
		return fail(exitUsage, "reading definitions: %v", err)
	}
	if !json.Valid(data) {
		return fail(exitUsage, "%s is not JSON", args[0])
	}
	return e.act("POST", e.definitionsPath(), nil, data, e.vhostWhat(), "definitions imported")
}

func (e *cmdEnv) status([]string) error {
	var ov map[string]any
	if err := e.c.call("GET", "/overview", nil, nil, &ov, "overview"); err != nil {
		return err
	}
	nodeName, _ := ov["node"].(string)
	var node map[string]any
	if err := e.c.call("GET", path("nodes", nodeName), nil, nil, &node, "node '"+nodeName+"'"); err != nil {
		return err
	}
	if e.o.json {
		out, err := json.MarshalIndent(map[string]any{"overview": ov, "node": node}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", out)
		return err
	}
	w := e.stdout
	get := func(m map[string]any, k string) string { return cell(m[k]) }
	fmt.Fprintf(w, "Node: %s\n", nodeName)
	product := get(ov, "product_name")
	if product == "" {
		product = "RabbitMQ"
	}
	fmt.Fprintf(w, "Product: %s %s (management %s, RabbitMQ %s)\n", product, get(ov, "product_version"), get(ov, "management_version"), get(ov, "rabbitmq_version"))
	if up, ok := node["uptime"].(float64); ok {
		fmt.Fprintf(w, "Uptime: %s\n", humanDuration(up/1000))
	}
	if ls, ok := ov["listeners"].([]any); ok {
		for _, l := range ls {
			if m, ok := l.(map[string]any); ok {
				fmt.Fprintf(w, "Listener: %s on %s:%s\n", get(m, "protocol"), get(m, "ip_address"), get(m, "port"))
			}
		}
	}
	fmt.Fprintf(w, "Memory: %s used, alarm at %s\n", humanBytes(node["mem_used"]), humanBytes(node["mem_limit"]))
	fmt.Fprintf(w, "Disk free: %s, alarm below %s\n", humanBytes(node["disk_free"]), humanBytes(node["disk_free_limit"]))
	fmt.Fprintf(w, "File descriptors: %s used of %s\n", get(node, "fd_used"), get(node, "fd_total"))
	var alarms []string
	if node["mem_alarm"] == true {
		alarms = append(alarms, "memory")
	}
	if node["disk_free_alarm"] == true {
		alarms = append(alarms, "disk")
	}
	if len(alarms) == 0 {
		alarms = append(alarms, "none")
	}
	fmt.Fprintf(w, "Alarms: %s\n", strings.Join(alarms, ", "))
	if t, ok := ov["object_totals"].(map[string]any); ok {
		fmt.Fprintf(w, "Totals: %s connections, %s channels, %s exchanges, %s queues, %s consumers\n",
			get(t, "connections"), get(t, "channels"), get(t, "exchanges"), get(t, "queues"), get(t, "consumers"))
	}
	if q, ok := ov["queue_totals"].(map[string]any); ok {
		fmt.Fprintf(w, "Messages: %s ready, %s unacknowledged\n", get(q, "messages_ready"), get(q, "messages_unacknowledged"))
	}
	return nil
}

func humanDuration(s float64) string {
	d, h, m := int(s)/86400, int(s)%86400/3600, int(s)%3600/60
	sec := int(s) % 60
	switch {
	case d > 0:
		return fmt.Sprintf("%dd %dh %dm", d, h, m)
	case h > 0:
		return fmt.Sprintf("%dh %dm %ds", h, m, sec)
	}
	return fmt.Sprintf("%dm %ds", m, sec)
}

func humanBytes(v any) string {
	f, ok := v.(float64)
	if !ok {
		return "?"
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", f)
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}

// health runs the named checks (all of them by default) and prints one
// line each: check, ok or failed, and the reason.
func (e *cmdEnv) health(args []string) error {
	checks := args
	if len(checks) == 0 {
		checks = []string{"alarms", "local-alarms", "virtual-hosts", "node-is-quorum-critical"}
		var ov map[string]any
		if err := e.c.call("GET", "/overview", nil, nil, &ov, "overview"); err != nil {
			return err
		}
		ls, _ := ov["listeners"].([]any)
		var ports []string
		for _, l := range ls {
			if m, ok := l.(map[string]any); ok {
				ports = append(ports, "port-listener:"+cell(m["port"]))
			}
		}
		sort.Strings(ports)
		checks = append(checks, ports...)
	}
	type result struct {
		Check  string `json:"check"`
		Status string `json:"status"`
		Reason string `json:"reason,omitempty"`
	}
	var results []result
	failed := 0
	for _, c := range checks {
		var p string
		switch {
		case c == "aliveness":
			p = path("aliveness-test", e.o.vhost)
		case strings.HasPrefix(c, "port-listener:"):
			p = "/health/checks/port-listener/" + strings.TrimPrefix(c, "port-listener:")
		case c == "alarms" || c == "local-alarms" || c == "virtual-hosts" || c == "node-is-quorum-critical":
			p = "/health/checks/" + c
		default:
			return fail(exitUsage, "health: no check %q (alarms, local-alarms, virtual-hosts, node-is-quorum-critical, port-listener:PORT, aliveness)", c)
		}
		var out map[string]any
		err := e.c.call("GET", p, nil, nil, &out, "check "+c)
		r := result{Check: c, Status: "ok"}
		if err != nil {
			ce, ok := err.(*cliError)
			if !ok || ce.code != exitNegative {
				return err
			}
			r.Status, r.Reason = "failed", ce.msg
			failed++
		}
		results = append(results, r)
	}
	if e.o.json {
		out, _ := json.MarshalIndent(results, "", "  ")
		fmt.Fprintf(e.stdout, "%s\n", out)
	} else {
		for _, r := range results {
			fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", r.Check, r.Status, r.Reason)
		}
	}
	if failed > 0 {
		return fail(exitNegative, "%d of %d health checks failed", failed, len(results))
	}
	return nil
}
