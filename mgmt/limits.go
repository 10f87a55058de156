package mgmt

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sort"
	"strconv"

	"github.com/warrenmq/warren/broker"
)

// /api/vhost-limits and /api/user-limits, RabbitMQ 3.10's
// rabbit_mgmt_wm_limits / _limit / _user_limits: lists of
// {"vhost"|"user", "value": {limit: n}}, one limit set with PUT
// {"value": n} and removed with DELETE. The limits themselves are the
// broker's (broker/resource_limits.go), in effect at once.

func (a *api) registerLimits() {
	a.handle("GET", "/api/vhost-limits", permManagement, a.listVHostLimits)
	a.handle("GET", "/api/vhost-limits/{vhost}", permManagement, a.getVHostLimits)
	a.handle("PUT", "/api/vhost-limits/{vhost}/{name}", permAdmin, a.putVHostLimit)
	a.handle("DELETE", "/api/vhost-limits/{vhost}/{name}", permAdmin, a.deleteVHostLimit)
	a.handle("GET", "/api/user-limits", permAdmin, a.listUserLimits)
	a.handle("GET", "/api/user-limits/{user}", permAdmin, a.getUserLimits)
	a.handle("PUT", "/api/user-limits/{user}/{name}", permAdmin, a.putUserLimit)
	a.handle("DELETE", "/api/user-limits/{user}/{name}", permAdmin, a.deleteUserLimit)
}

// The limit names each kind knows, as RabbitMQ spells them.
var (
	vhostLimitNames = []string{broker.LimitMaxConnections, broker.LimitMaxQueues}
	userLimitNames  = []string{broker.LimitMaxConnections, broker.LimitMaxChannels}
)

func limitsValue(l broker.Limits) map[string]any {
	m := make(map[string]any, len(l))
	for k, v := range l {
		m[k] = v
	}
	return m
}

func vhostLimitsRow(name string, l broker.Limits) map[string]any {
	return map[string]any{"vhost": name, "value": limitsValue(l)}
}

func (a *api) listVHostLimits(w http.ResponseWriter, _ *http.Request, p *broker.Principal) {
	rows := []map[string]any{}
	for _, v := range a.visibleVHosts(p) {
		if l, ok := a.b.VHostLimits(v.Name); ok && len(l) > 0 {
			rows = append(rows, vhostLimitsRow(v.Name, l))
		}
	}
	writeJSON(w, rows)
}

func (a *api) getVHostLimits(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	name := pathValue(r, "vhost")
	l, ok := a.b.VHostLimits(name)
	if !ok {
		writeNotFound(w)
		return
	}
	if !a.seesVHost(p, name) {
		writeError(w, http.StatusUnauthorized, "not_authorised", "User not authorised to access virtual host")
		return
	}
	rows := []map[string]any{}
	if len(l) > 0 {
		rows = append(rows, vhostLimitsRow(name, l))
	}
	writeJSON(w, rows)
}

// limitValue reads the body {"value": n} of a limit PUT: n must be an
// integer, as RabbitMQ's validator wants. ok false: the 400 is written.
func limitValue(w http.ResponseWriter, r *http.Request, name, suffix string) (int, bool) {
	body, ok := decodeObject(w, r)
	if !ok || !requireKeys(w, body, "value") {
		return 0, false
	}
	n, ok := integer(body["value"])
	if !ok {
		writeError(w, http.StatusBadRequest, "bad_request", suffixed(name+" should be a number, actually was "+erlTerm(body["value"]), suffix))
		return 0, false
	}
	return n, true
}

// suffixed wraps a vhost-limits validation reason as RabbitMQ's parameter
// validation prints it; user limits print it bare.
func suffixed(reason, kind string) string {
	if kind == "vhost" {
		return "Validation failed\n\n" + reason + "\n"
	}
	return reason
}

// integer is v as a limit value: a JSON integer (5, not 5.0 or "5").
func integer(v any) (int, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	if err != nil || int64(int(i)) != i {
		return 0, false
	}
	return int(i), true
}

// erlTerm prints a JSON value roughly as RabbitMQ's error reasons print
// the Erlang term it decoded to: strings as <<"...">>.
func erlTerm(v any) string {
	switch v := v.(type) {
	case string:
		return `<<"` + v + `">>`
	case json.Number:
		return v.String()
	case nil:
		return "null"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func unknownLimit(w http.ResponseWriter, name string, value any, kind string) {
	if kind == "vhost" {
		writeError(w, http.StatusBadRequest, "bad_request", suffixed(`Unrecognised terms [{<<"`+name+`">>,`+erlTerm(value)+`}] in limits`, kind))
		return
	}
	writeError(w, http.StatusBadRequest, "bad_request", `Unrecognised terms [{<<"`+name+`">>,`+erlTerm(value)+`}] in user-limits`)
}

func (a *api) putVHostLimit(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	vhost, name := pathValue(r, "vhost"), pathValue(r, "name")
	l, ok := a.b.VHostLimits(vhost)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "vhost_not_found")
		return
	}
	n, ok := limitValue(w, r, name, "vhost")
	if !ok {
		return
	}
	if !slices.Contains(vhostLimitNames, name) {
		unknownLimit(w, name, json.Number(strconv.Itoa(n)), "vhost")
		return
	}
	if l == nil {
		l = broker.Limits{}
	}
	l[name] = n
	a.setVHostLimits(w, vhost, l)
}

func (a *api) setVHostLimits(w http.ResponseWriter, vhost string, l broker.Limits) {
	limitsSet(w, a.b.SetVHostLimits(vhost, l), broker.ErrNoSuchVHost, func(w http.ResponseWriter) {
		writeError(w, http.StatusNotFound, "not_found", "vhost_not_found")
	})
}

// limitsSet answers a change of limits that ended with err: notFound's
// answer for missing (no such vhost or user), else 400 or 204.
func limitsSet(w http.ResponseWriter, err, missing error, notFound func(http.ResponseWriter)) {
	switch {
	case errors.Is(err, missing):
		notFound(w)
	case err != nil:
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// deleteVHostLimit removes one limit; a limit that is not set is already
// removed (204, as RabbitMQ).
func (a *api) deleteVHostLimit(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	vhost := pathValue(r, "vhost")
	l, ok := a.b.VHostLimits(vhost)
	deleteLimit(w, pathValue(r, "name"), l, ok, func(l broker.Limits) { a.setVHostLimits(w, vhost, l) })
}

// deleteLimit removes limit name from l, the limits of a vhost or user
// (ok false: there is none), storing the rest with set.
func deleteLimit(w http.ResponseWriter, name string, l broker.Limits, ok bool, set func(broker.Limits)) {
	if !ok {
		writeNotFound(w) // RabbitMQ 3.10 answers 500 here
		return
	}
	if _, isSet := l[name]; !isSet {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	delete(l, name)
	set(l)
}

func (a *api) listUserLimits(w http.ResponseWriter, _ *http.Request, _ *broker.Principal) {
	users := a.b.Users().List()
	sort.Slice(users, func(i, j int) bool { return users[i].Name < users[j].Name })
	rows := []map[string]any{}
	for _, u := range users {
		if l, ok := a.b.UserLimits(u.Name); ok && len(l) > 0 {
			rows = append(rows, map[string]any{"user": u.Name, "value": limitsValue(l)})
		}
	}
	writeJSON(w, rows)
}

func (a *api) getUserLimits(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	user := pathValue(r, "user")
	l, ok := a.b.UserLimits(user)
	if !ok {
		writeNotFound(w)
		return
	}
	rows := []map[string]any{}
	if len(l) > 0 {
		rows = append(rows, map[string]any{"user": user, "value": limitsValue(l)})
	}
	writeJSON(w, rows)
}

func (a *api) putUserLimit(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	user, name := pathValue(r, "user"), pathValue(r, "name")
	n, ok := limitValue(w, r, name, "user")
	if !ok {
		return
	}
	l, ok := a.b.UserLimits(user)
	if !ok {
		writeJSONStatus(w, http.StatusBadRequest, map[string]any{"error": "bad_request", "reason": []string{"no_such_user", user}})
		return
	}
	if !slices.Contains(userLimitNames, name) {
		unknownLimit(w, name, json.Number(strconv.Itoa(n)), "user")
		return
	}
	if l == nil {
		l = broker.Limits{}
	}
	l[name] = n
	a.setUserLimits(w, user, l)
}

func (a *api) setUserLimits(w http.ResponseWriter, user string, l broker.Limits) {
	limitsSet(w, a.b.SetUserLimits(user, l), broker.ErrNoSuchUser, writeNotFound)
}

func (a *api) deleteUserLimit(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	user := pathValue(r, "user")
	l, ok := a.b.UserLimits(user)
	deleteLimit(w, pathValue(r, "name"), l, ok, func(l broker.Limits) { a.setUserLimits(w, user, l) })
}
