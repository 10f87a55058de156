package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// A list prints rows of the API's objects under rabbitmqctl's column
// names (its "info items"), tab-separated after a header line as
// rabbitmqctl's default formatter prints them, or as a JSON array of
// objects keyed by those names (rabbitmqctl --formatter json).

type column struct {
	name string
	get  func(row map[string]any) any
}

// field is the column taken from the API field of the same name (or key,
// a dotted path into nested objects).
func field(name string, key ...string) column {
	k := name
	if len(key) > 0 {
		k = key[0]
	}
	parts := strings.Split(k, ".")
	return column{name, func(row map[string]any) any {
		var v any = row
		for _, p := range parts {
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[p]
		}
		return v
	}}
}

func constant(name string, v any) column {
	return column{name, func(map[string]any) any { return v }}
}

type listSpec struct {
	noun     string
	all      string                    // API path of the list across vhosts
	perVHost func(vhost string) string // API path of one vhost's list; nil: not per vhost
	cols     []column
	defaults []string
	help     string
}

var lists = []listSpec{
	{
		noun: "queues", all: "/queues", perVHost: func(v string) string { return path("queues", v) },
		cols: []column{
			field("name"), field("vhost"), field("durable"), field("auto_delete"), field("exclusive"), field("arguments"),
			field("policy"), field("operator_policy"), field("effective_policy_definition"),
			field("messages_ready"), field("messages_unacknowledged"), field("messages"),
			field("message_bytes"), field("message_bytes_ready"), field("message_bytes_unacknowledged"),
			field("consumers"), field("memory"), field("state"), field("type"), field("node"),
		},
		defaults: []string{"name", "messages"},
		help:     "queues of --vhost",
	},
	{
		noun: "exchanges", all: "/exchanges", perVHost: func(v string) string { return path("exchanges", v) },
		cols: []column{
			field("name"), field("vhost"), field("type"), field("durable"), field("auto_delete"), field("internal"),
			field("arguments"), field("policy"),
		},
		defaults: []string{"name", "type"},
		help:     "exchanges of --vhost",
	},
	{
		noun: "bindings", all: "/bindings", perVHost: func(v string) string { return path("bindings", v) },
		cols: []column{
			field("source_name", "source"), constant("source_kind", "exchange"),
			field("destination_name", "destination"), field("destination_kind", "destination_type"),
			field("routing_key"), field("arguments"), field("vhost"), field("properties_key"),
		},
		defaults: []string{"source_name", "source_kind", "destination_name", "destination_kind", "routing_key", "arguments"},
		help:     "bindings of --vhost",
	},
	{
		noun: "connections", all: "/connections", perVHost: func(v string) string { return path("vhosts", v, "connections") },
		cols: []column{
			field("name"), field("user"), field("vhost"), field("peer_host"), field("peer_port"), field("host"), field("port"),
			field("state"), field("channels"), field("protocol"), field("ssl"), field("auth_mechanism"),
			field("frame_max"), field("channel_max"), field("timeout"), field("recv_oct"), field("send_oct"),
			field("connected_at"), field("client_properties"), field("node"),
		},
		defaults: []string{"user", "peer_host", "peer_port", "state"},
		help:     "client connections (all vhosts unless --vhost is given)",
	},
	{
		noun: "channels", all: "/channels", perVHost: func(v string) string { return path("vhosts", v, "channels") },
		cols: []column{
			// pid is the channel's name: Warren has no Erlang pids.
			field("pid", "name"), field("name"), field("connection", "connection_details.name"), field("number"),
			field("user"), field("vhost"), field("consumer_count"), field("messages_unacknowledged"),
			field("messages_unconfirmed"), field("messages_uncommitted"), field("acks_uncommitted"),
			field("prefetch_count"), field("global_prefetch_count"),
			field("confirm"), field("transactional"), field("state"),
		},
		defaults: []string{"pid", "user", "consumer_count", "messages_unacknowledged"},
		help:     "channels (all vhosts unless --vhost is given)",
	},
	{
		noun: "consumers", all: "/consumers", perVHost: func(v string) string { return path("consumers", v) },
		cols: []column{
			field("queue_name", "queue.name"), field("channel_pid", "channel_details.name"), field("consumer_tag"),
			field("ack_required"), field("prefetch_count"), field("active"), field("activity_status"),
			field("arguments"), field("exclusive"), field("vhost", "queue.vhost"),
		},
		defaults: []string{"queue_name", "channel_pid", "consumer_tag", "ack_required", "prefetch_count", "active", "arguments"},
		help:     "consumers of --vhost",
	},
	{
		noun: "users", all: "/users",
		cols: []column{
			field("user", "name"),
			{"tags", func(row map[string]any) any { return tagList(row["tags"]) }},
			field("hashing_algorithm"), field("limits"),
		},
		defaults: []string{"user", "tags"},
		help:     "users",
	},
	{
		noun: "vhosts", all: "/vhosts",
		cols: []column{
			field("name"), field("description"), field("tags"), field("tracing"), field("messages"),
			field("messages_ready"), field("messages_unacknowledged"), field("default_queue_type"),
		},
		defaults: []string{"name"},
		help:     "virtual hosts",
	},
	{
		noun: "permissions", all: "/permissions", perVHost: func(v string) string { return path("vhosts", v, "permissions") },
		cols: []column{
			field("user"), field("configure"), field("write"), field("read"), field("vhost"),
		},
		defaults: []string{"user", "configure", "write", "read"},
		help:     "users' permissions in --vhost",
	},
	{
		noun: "policies", all: "/policies", perVHost: func(v string) string { return path("policies", v) },
		cols: []column{
			field("vhost"), field("name"), field("pattern"), field("apply-to"), field("definition"), field("priority"),
		},
		defaults: []string{"vhost", "name", "pattern", "apply-to", "definition", "priority"},
		help:     "policies of --vhost",
	},
	{
		noun: "vhost_limits", all: "/vhost-limits", perVHost: func(v string) string { return path("vhost-limits", v) },
		cols:     []column{field("vhost"), field("value")},
		defaults: []string{"vhost", "value"},
		help:     "vhost limits (of --vhost if given)",
	},
	{
		noun: "user_limits", all: "/user-limits",
		cols:     []column{field("user"), field("value")},
		defaults: []string{"user", "value"},
		help:     "users' limits",
	},
}

// tagList prints tags as rabbitmqctl 3.10 does: [administrator, monitoring].
func tagList(v any) string {
	var tags []string
	switch v := v.(type) {
	case []any:
		for _, t := range v {
			tags = append(tags, fmt.Sprint(t))
		}
	case string:
		if v != "" {
			tags = strings.Split(v, ",")
		}
	}
	return "[" + strings.Join(tags, ", ") + "]"
}

// connectionsAllByDefault: rabbitmqctl lists every vhost's connections
// and channels unless asked for one.
var connectionsAllByDefault = map[string]bool{"connections": true, "channels": true, "vhost_limits": true}

func listCommands() []command {
	var out []command
	for i := range lists {
		spec := &lists[i]
		out = append(out, command{
			words: "list " + spec.noun, args: "", min: 0, max: 0, help: spec.help,
			run: func(e *cmdEnv, _ []string) error { return e.list(spec) },
		})
	}
	return out
}

func (e *cmdEnv) list(spec *listSpec) error {
	cols, err := selectColumns(spec, e.o.columns, e.o.allVHosts)
	if err != nil {
		return err
	}
	p := spec.all
	vhostGiven := e.o.vhostSet
	if spec.perVHost != nil && !e.o.allVHosts && (vhostGiven || !connectionsAllByDefault[spec.noun]) {
		p = spec.perVHost(e.o.vhost)
	}
	var rows []map[string]any
	if err := e.c.call("GET", p, nil, nil, &rows, "vhost '"+e.o.vhost+"'"); err != nil {
		return err
	}
	if e.o.json {
		return writeJSONRows(e.stdout, rows, cols)
	}
	return writeTable(e.stdout, rows, cols)
}

func selectColumns(spec *listSpec, want string, allVHosts bool) ([]column, error) {
	names := spec.defaults
	switch want {
	case "":
		if allVHosts && spec.perVHost != nil && names[0] != "vhost" {
			names = append([]string{"vhost"}, names...)
		}
	case "all":
		return spec.cols, nil
	default:
		names = strings.Split(want, ",")
	}
	var out []column
	for _, n := range names {
		n = strings.TrimSpace(n)
		found := false
		for _, c := range spec.cols {
			if c.name == n {
				out, found = append(out, c), true
				break
			}
		}
		if !found {
			var known []string
			for _, c := range spec.cols {
				known = append(known, c.name)
			}
			return nil, fail(exitUsage, "list %s: no column %q (columns: %s)", spec.noun, n, strings.Join(known, ", "))
		}
	}
	return out, nil
}

// cell prints a value for a table: numbers without exponent, objects and
// lists as compact JSON, null as nothing.
func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func writeTable(w io.Writer, rows []map[string]any, cols []column) error {
	var b bytes.Buffer
	for i, c := range cols {
		if i > 0 {
			b.WriteByte('\t')
		}
		b.WriteString(c.name)
	}
	b.WriteByte('\n')
	for _, r := range rows {
		for i, c := range cols {
			if i > 0 {
				b.WriteByte('\t')
			}
			s := cell(c.get(r))
			s = strings.NewReplacer("\t", `\t`, "\n", `\n`).Replace(s)
			b.WriteString(s)
		}
		b.WriteByte('\n')
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeJSONRows prints rows as a JSON array of objects, keys in column
// order.
func writeJSONRows(w io.Writer, rows []map[string]any, cols []column) error {
	var b bytes.Buffer
	b.WriteString("[")
	for i, r := range rows {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n{")
		for j, c := range cols {
			if j > 0 {
				b.WriteString(",")
			}
			k, _ := json.Marshal(c.name)
			v, err := json.Marshal(c.get(r))
			if err != nil {
				return err
			}
			b.Write(k)
			b.WriteString(":")
			b.Write(v)
		}
		b.WriteString("}")
	}
	b.WriteString("\n]\n")
	_, err := w.Write(b.Bytes())
	return err
}
