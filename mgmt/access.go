package mgmt

import (
	"net/http"

	"github.com/warrenmq/warren/broker"
)

// registerAccess serves vhosts, users, permissions and topic permissions
// from the broker's access table (broker/users.go, permissions.go).
func (a *api) registerAccess() {
	a.handle("GET", "/api/vhosts", permManagement, a.listVHosts)
	a.handle("GET", "/api/vhosts/{$}", permManagement, a.listVHosts)
	a.handle("GET", "/api/vhosts/{vhost}", permManagement, a.getVHost)
	a.handle("PUT", "/api/vhosts/{vhost}", permAdmin, a.putVHost)
	a.handle("DELETE", "/api/vhosts/{vhost}", permAdmin, a.deleteVHost)
	a.handle("GET", "/api/vhosts/{vhost}/permissions", permAdmin, a.vhostPermissions)
	a.handle("GET", "/api/vhosts/{vhost}/topic-permissions", permAdmin, a.vhostTopicPermissions)
	a.handle("GET", "/api/users", permAdmin, a.listUsers)
	a.handle("GET", "/api/users/{$}", permAdmin, a.listUsers)
	a.handle("GET", "/api/users/{name}", permAdmin, a.getUser)
	a.handle("PUT", "/api/users/{name}", permAdmin, a.putUser)
	a.handle("DELETE", "/api/users/{name}", permAdmin, a.deleteUser)
	a.handle("GET", "/api/users/{name}/permissions", permAdmin, a.userPermissions)
	a.handle("GET", "/api/users/{name}/topic-permissions", permAdmin, a.userTopicPermissions)
	a.handle("GET", "/api/permissions", permAdmin, a.listPermissions)
	a.handle("GET", "/api/permissions/{vhost}/{user}", permAdmin, a.getPermission)
	a.handle("PUT", "/api/permissions/{vhost}/{user}", permAdmin, a.putPermission)
	a.handle("DELETE", "/api/permissions/{vhost}/{user}", permAdmin, a.deletePermission)
	a.handle("GET", "/api/topic-permissions", permAdmin, a.listTopicPermissions)
	a.handle("GET", "/api/topic-permissions/{vhost}/{user}", permAdmin, a.getTopicPermissions)
	a.handle("PUT", "/api/topic-permissions/{vhost}/{user}", permAdmin, a.putTopicPermission)
	a.handle("DELETE", "/api/topic-permissions/{vhost}/{user}", permAdmin, a.deleteTopicPermissions)
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

func (a *api) listVHosts(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	var rows []map[string]any
	for _, v := range a.visibleVHosts(p) {
		rows = append(rows, a.vhostJSON(v))
	}
	writeList(w, r, rows)
}

func (a *api) getVHost(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	if v, ok := a.vhostOr404(w, r); ok {
		writeJSON(w, a.vhostJSON(v))
	}
}

func userJSON(u broker.UserInfo) map[string]any {
	tags := u.Tags
	if tags == nil {
		tags = []string{}
	}
	return map[string]any{
		"name":              u.Name,
		"password_hash":     u.PasswordHash,
		"hashing_algorithm": u.HashingAlgorithm,
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
	u, ok := a.b.Users().Get(pathValue(r, "name"))
	if !ok {
		writeNotFound(w)
		return
	}
	writeJSON(w, userJSON(u))
}

func permissionJSON(p broker.Permission) map[string]any {
	return map[string]any{"user": p.User, "vhost": p.VHost, "configure": p.Configure, "write": p.Write, "read": p.Read}
}

func topicPermissionJSON(p broker.TopicPermission) map[string]any {
	return map[string]any{"user": p.User, "vhost": p.VHost, "exchange": p.Exchange, "write": p.Write, "read": p.Read}
}

// permissions lists the grants, filtered by keep.
func (a *api) permissions(keep func(user, vhost string) bool) []map[string]any {
	rows := []map[string]any{}
	for _, p := range a.b.Users().Permissions() {
		if keep(p.User, p.VHost) {
			rows = append(rows, permissionJSON(p))
		}
	}
	return rows
}

// topicPermissions lists the topic permissions, filtered by keep.
func (a *api) topicPermissions(keep func(user, vhost string) bool) []map[string]any {
	rows := []map[string]any{}
	for _, p := range a.b.Users().TopicPermissions() {
		if keep(p.User, p.VHost) {
			rows = append(rows, topicPermissionJSON(p))
		}
	}
	return rows
}

func everyone(string, string) bool { return true }

func (a *api) listPermissions(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	writeList(w, r, a.permissions(everyone))
}

func (a *api) listTopicPermissions(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	writeList(w, r, a.topicPermissions(everyone))
}

func (a *api) vhostPermissions(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	if v, ok := a.vhostOr404(w, r); ok {
		writeList(w, r, a.permissions(func(_, vhost string) bool { return vhost == v.Name }))
	}
}

func (a *api) vhostTopicPermissions(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	if v, ok := a.vhostOr404(w, r); ok {
		writeList(w, r, a.topicPermissions(func(_, vhost string) bool { return vhost == v.Name }))
	}
}

func (a *api) userOr404(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := pathValue(r, "name")
	if _, ok := a.b.Users().Get(name); !ok {
		writeNotFound(w)
		return "", false
	}
	return name, true
}

func (a *api) userPermissions(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	if name, ok := a.userOr404(w, r); ok {
		writeList(w, r, a.permissions(func(user, _ string) bool { return user == name }))
	}
}

func (a *api) userTopicPermissions(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	if name, ok := a.userOr404(w, r); ok {
		writeList(w, r, a.topicPermissions(func(user, _ string) bool { return user == name }))
	}
}

func (a *api) getPermission(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	vhost, user := pathValue(r, "vhost"), pathValue(r, "user")
	rows := a.permissions(func(u, v string) bool { return u == user && v == vhost })
	if len(rows) == 0 {
		writeNotFound(w)
		return
	}
	writeJSON(w, rows[0])
}

func (a *api) getTopicPermissions(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	vhost, user := pathValue(r, "vhost"), pathValue(r, "user")
	rows := a.topicPermissions(func(u, v string) bool { return u == user && v == vhost })
	if len(rows) == 0 {
		writeNotFound(w)
		return
	}
	writeJSON(w, rows)
}
