package mgmt

import (
	"encoding/base64"
	"net/http"

	"github.com/warrenmq/warren/broker"
)

// registerAccess serves the read side of vhosts, users and permissions.
// Warren's user table gives every user full rights on every vhost (see
// broker/users.go), so each user has ".*" on each vhost.
func (a *api) registerAccess() {
	a.handle("GET", "/api/vhosts", permManagement, a.listVHosts)
	a.handle("GET", "/api/vhosts/{$}", permManagement, a.listVHosts)
	a.handle("GET", "/api/vhosts/{vhost}", permManagement, a.getVHost)
	a.handle("GET", "/api/vhosts/{vhost}/permissions", permAdmin, a.vhostPermissions)
	a.handle("GET", "/api/users", permAdmin, a.listUsers)
	a.handle("GET", "/api/users/{$}", permAdmin, a.listUsers)
	a.handle("GET", "/api/users/{name}", permAdmin, a.getUser)
	a.handle("GET", "/api/users/{name}/permissions", permAdmin, a.userPermissions)
	a.handle("GET", "/api/permissions", permAdmin, a.listPermissions)
	a.handle("GET", "/api/permissions/{vhost}/{user}", permAdmin, a.getPermission)
}

func (a *api) vhostJSON(v *broker.VHost) map[string]any {
	var ready, unacked int64
	for _, q := range v.Queues() {
		ready += q.Ready()
		unacked += q.Unacked()
	}
	var recv, send uint64 // of the open connections (RabbitMQ also keeps closed ones')
	for _, c := range a.b.Registry().Conns() {
		if c.Info.VHost == v.Name {
			recv += c.BytesIn.Load()
			send += c.BytesOut.Load()
		}
	}
	desc := ""
	if v.Name == "/" {
		desc = "Default virtual host"
	}
	return map[string]any{
		"name":                    v.Name,
		"description":             desc,
		"tags":                    []string{},
		"metadata":                map[string]any{"description": desc, "tags": []string{}},
		"default_queue_type":      "undefined",
		"tracing":                 false,
		"cluster_state":           map[string]any{a.cfg.Node: "running"},
		"messages":                ready + unacked,
		"messages_ready":          ready,
		"messages_unacknowledged": unacked,
		"message_stats":           a.rates.vhostStats(v),
		"recv_oct":                recv,
		"send_oct":                send,
	}
}

func (a *api) listVHosts(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	var rows []map[string]any
	for _, v := range a.b.VHosts() {
		rows = append(rows, a.vhostJSON(v))
	}
	writeList(w, r, rows)
}

func (a *api) getVHost(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	if v, ok := a.vhostOr404(w, r); ok {
		writeJSON(w, a.vhostJSON(v))
	}
}

func userJSON(u broker.UserView) map[string]any {
	tags := u.Tags
	if tags == nil {
		tags = []string{}
	}
	return map[string]any{
		"name":              u.Name,
		"password_hash":     base64.StdEncoding.EncodeToString(u.PasswordHash),
		"hashing_algorithm": "rabbit_password_hashing_sha256",
		"tags":              tags,
		"limits":            map[string]any{},
	}
}

func (a *api) listUsers(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	var rows []map[string]any
	for _, u := range a.b.Users().List() {
		rows = append(rows, userJSON(u))
	}
	writeList(w, r, rows)
}

func (a *api) getUser(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	u, ok := a.b.Users().Lookup(pathValue(r, "name"))
	if !ok {
		writeNotFound(w)
		return
	}
	writeJSON(w, userJSON(u))
}

func permissionJSON(user, vhost string) map[string]any {
	return map[string]any{"user": user, "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"}
}

// permissions lists (user, vhost) pairs, filtered by keep.
func (a *api) permissions(keep func(user, vhost string) bool) []map[string]any {
	rows := []map[string]any{}
	for _, u := range a.b.Users().List() {
		for _, v := range a.b.VHosts() {
			if keep(u.Name, v.Name) {
				rows = append(rows, permissionJSON(u.Name, v.Name))
			}
		}
	}
	return rows
}

func (a *api) listPermissions(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	writeList(w, r, a.permissions(func(string, string) bool { return true }))
}

func (a *api) vhostPermissions(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	if v, ok := a.vhostOr404(w, r); ok {
		writeList(w, r, a.permissions(func(_, vhost string) bool { return vhost == v.Name }))
	}
}

func (a *api) userPermissions(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	name := pathValue(r, "name")
	if _, ok := a.b.Users().Lookup(name); !ok {
		writeNotFound(w)
		return
	}
	writeList(w, r, a.permissions(func(user, _ string) bool { return user == name }))
}

func (a *api) getPermission(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	v, ok := a.vhostOr404(w, r)
	if !ok {
		return
	}
	user := pathValue(r, "user")
	if _, ok := a.b.Users().Lookup(user); !ok {
		writeNotFound(w)
		return
	}
	writeJSON(w, permissionJSON(user, v.Name))
}
