package mgmt

import (
	"errors"
	"net/http"

	"github.com/warrenmq/warren/broker"
)

// The write side of vhosts, users and permissions, with RabbitMQ 3.10's
// answers: 201 for what a PUT created, 204 for what it changed or a DELETE
// removed, 404 for a DELETE of nothing, 400 vhost_or_user_not_found for a
// grant naming either that does not exist.

func writeCreatedOr(w http.ResponseWriter, existed bool) {
	if existed {
		w.WriteHeader(http.StatusNoContent)
	} else {
		w.WriteHeader(http.StatusCreated)
	}
}

// putVHost creates a vhost; as RabbitMQ, the user creating it gets full
// permissions on it, so it can be used at once.
func (a *api) putVHost(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	name := pathValue(r, "vhost")
	if r.ContentLength != 0 {
		if _, ok := decodeObject(w, r); !ok {
			return
		}
	}
	_, existed := a.b.VHost(name)
	if !existed {
		if err := a.b.AddVHost(name); err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", err.Error())
			return
		}
		full := broker.Permission{User: p.User, VHost: name, Configure: ".*", Write: ".*", Read: ".*"}
		if err := a.b.Users().SetPermissions(full); err != nil {
			writeError(w, http.StatusInternalServerError, "internal_server_error", err.Error())
			return
		}
	}
	writeCreatedOr(w, existed)
}

func (a *api) deleteVHost(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	err := a.b.DeleteVHost(pathValue(r, "vhost"))
	switch {
	case errors.Is(err, broker.ErrNoSuchVHost):
		writeNotFound(w)
	case err != nil:
		writeError(w, http.StatusInternalServerError, "internal_server_error", err.Error())
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// putUser creates or replaces a user from password, or password_hash and
// hashing_algorithm as an export has them, or neither (a passwordless
// user, as RabbitMQ); tags are a list or a comma-separated string.
func (a *api) putUser(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	name := pathValue(r, "name")
	body, ok := decodeObject(w, r)
	if !ok {
		return
	}
	users := a.b.Users()
	_, existed := users.Get(name)
	tags := userTags(body["tags"])
	var err error
	if pw, ok := body["password"].(string); ok {
		err = users.AddHashed(name, "", "", tags)
		if err == nil {
			err = users.SetPassword(name, pw)
		}
	} else {
		err = users.AddHashed(name, str(body, "password_hash"), str(body, "hashing_algorithm"), tags)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	writeCreatedOr(w, existed)
}

func (a *api) deleteUser(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	err := a.b.Users().Delete(pathValue(r, "name"))
	switch {
	case errors.Is(err, broker.ErrNoSuchUser):
		writeNotFound(w)
	case err != nil:
		writeError(w, http.StatusInternalServerError, "internal_server_error", err.Error())
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// grantTarget reads the path's vhost and user, answering 400 as RabbitMQ
// when either does not exist.
func (a *api) grantTarget(w http.ResponseWriter, r *http.Request) (vhost, user string, ok bool) {
	vhost, user = pathValue(r, "vhost"), pathValue(r, "user")
	_, vok := a.b.VHost(vhost)
	_, uok := a.b.Users().Get(user)
	if !vok || !uok {
		writeError(w, http.StatusBadRequest, "bad_request", "vhost_or_user_not_found")
		return "", "", false
	}
	return vhost, user, true
}

func (a *api) putPermission(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	body, ok := decodeObject(w, r)
	if !ok || !requireKeys(w, body, "configure", "write", "read") {
		return
	}
	vhost, user, ok := a.grantTarget(w, r)
	if !ok {
		return
	}
	existed := a.b.Users().CanAccessVHost(user, vhost)
	p := broker.Permission{User: user, VHost: vhost, Configure: str(body, "configure"), Write: str(body, "write"), Read: str(body, "read")}
	if err := a.b.Users().SetPermissions(p); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	writeCreatedOr(w, existed)
}

func (a *api) deletePermission(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	vhost, user := pathValue(r, "vhost"), pathValue(r, "user")
	if !a.b.Users().CanAccessVHost(user, vhost) {
		writeNotFound(w)
		return
	}
	if err := a.b.Users().ClearPermissions(user, vhost); err != nil {
		writeError(w, http.StatusInternalServerError, "internal_server_error", err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) hasTopicPermissions(user, vhost string) bool {
	return len(a.topicPermissions(func(u, v string) bool { return u == user && v == vhost })) > 0
}

func (a *api) putTopicPermission(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	body, ok := decodeObject(w, r)
	if !ok || !requireKeys(w, body, "exchange", "write", "read") {
		return
	}
	vhost, user, ok := a.grantTarget(w, r)
	if !ok {
		return
	}
	existed := a.hasTopicPermissions(user, vhost)
	p := broker.TopicPermission{User: user, VHost: vhost, Exchange: str(body, "exchange"), Write: str(body, "write"), Read: str(body, "read")}
	if err := a.b.Users().SetTopicPermissions(p); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	writeCreatedOr(w, existed)
}

func (a *api) deleteTopicPermissions(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	vhost, user := pathValue(r, "vhost"), pathValue(r, "user")
	if !a.hasTopicPermissions(user, vhost) {
		writeNotFound(w)
		return
	}
	if err := a.b.Users().ClearTopicPermissions(user, vhost, ""); err != nil {
		writeError(w, http.StatusInternalServerError, "internal_server_error", err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
