package mgmt

import (
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/warrenmq/warren/broker"
)

// registerPolicies serves /api/policies and /api/operator-policies in
// RabbitMQ's shapes: GET lists all, per vhost, or one; PUT creates (201) or
// updates (204); DELETE removes (204). Policies need an administrator or
// policymaker, operator policies an administrator.
func (a *api) registerPolicies() {
	for _, r := range []struct {
		base string
		kind broker.PolicyKind
		perm permission
	}{
		{"/api/policies", broker.UserPolicy, permPolicies},
		{"/api/operator-policies", broker.OperatorPolicy, permAdmin},
	} {
		ph := policyHandlers{a.b, r.kind}
		a.handle("GET", r.base, r.perm, ph.listAll)
		a.handle("GET", r.base+"/{$}", r.perm, ph.listAll)
		a.handle("GET", r.base+"/{vhost}", r.perm, ph.listVHost)
		a.handle("GET", r.base+"/{vhost}/{name}", r.perm, ph.get)
		a.handle("PUT", r.base+"/{vhost}/{name}", r.perm, ph.put)
		a.handle("DELETE", r.base+"/{vhost}/{name}", r.perm, ph.delete)
	}
}

type policyHandlers struct {
	b    *broker.Broker
	kind broker.PolicyKind
}

func nonNil(ps []broker.Policy) []broker.Policy {
	if ps == nil {
		return []broker.Policy{}
	}
	return ps
}

func (h policyHandlers) listAll(w http.ResponseWriter, _ *http.Request, _ *broker.Principal) {
	writeJSON(w, nonNil(h.b.Policies(h.kind)))
}

func (h policyHandlers) listVHost(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	v, ok := h.b.VHost(pathValue(r, "vhost"))
	if !ok {
		writeNotFound(w)
		return
	}
	writeJSON(w, nonNil(v.Policies(h.kind)))
}

func (h policyHandlers) get(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	v, ok := h.b.VHost(pathValue(r, "vhost"))
	if !ok {
		writeNotFound(w)
		return
	}
	p, ok := v.Policy(h.kind, pathValue(r, "name"))
	if !ok {
		writeNotFound(w)
		return
	}
	writeJSON(w, p)
}

func (h policyHandlers) put(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	// RabbitMQ's operator policy resource accepts application/json only;
	// its policy resource takes any content type.
	if h.kind == broker.OperatorPolicy && !isJSON(r) {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		return
	}
	v, ok := h.b.VHost(pathValue(r, "vhost"))
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "vhost_not_found")
		return
	}
	body, ok := decodeObject(w, r)
	if !ok || !requireKeys(w, body, "pattern", "definition") {
		return
	}
	p, err := broker.ParsePolicy(h.kind, v.Name, pathValue(r, "name"), body)
	if err == nil {
		var created bool
		if created, err = v.SetPolicy(h.kind, p); err == nil {
			if created {
				w.WriteHeader(http.StatusCreated)
			} else {
				w.WriteHeader(http.StatusNoContent)
			}
			return
		}
	}
	var pe *broker.PolicyError
	if errors.As(err, &pe) {
		reason := pe.Reason
		if h.kind == broker.UserPolicy { // RabbitMQ escapes these, not the operator policies'
			reason = escapeHTMLTags(reason)
		}
		writeError(w, http.StatusBadRequest, "bad_request", reason)
		return
	}
	writeError(w, http.StatusInternalServerError, "internal_server_error", err.Error())
}

func (h policyHandlers) delete(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	v, ok := h.b.VHost(pathValue(r, "vhost"))
	if !ok {
		writeNotFound(w)
		return
	}
	found, err := v.DeletePolicy(h.kind, pathValue(r, "name"))
	switch {
	case err != nil:
		writeError(w, http.StatusInternalServerError, "internal_server_error", err.Error())
	case !found:
		writeNotFound(w)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// escapeHTMLTags is rabbit_mgmt_format:escape_html_tags.
var escapeHTMLTags = strings.NewReplacer("<", "&lt;", ">", "&gt;", "&", "&amp;").Replace
