package mgmt

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/warrenmq/warren/broker"
)

// /api/parameters, RabbitMQ's runtime parameters. The one component Warren
// has is vhost-limits (RabbitMQ keeps vhost limits as the parameter
// vhost-limits/<vhost>/limits, so the same limits show here and under
// /api/vhost-limits). Listing another component (federation-upstream,
// shovel, ...) gives [], as RabbitMQ does for a component it does not
// know; setting one is RabbitMQ's 400 "component ... not found".

const limitsComponent = "vhost-limits"

func (a *api) registerParameters() {
	a.handle("GET", "/api/parameters", permPolicies, a.listParameters)
	a.handle("GET", "/api/parameters/{component}", permPolicies, a.listParameters)
	a.handle("GET", "/api/parameters/{component}/{vhost}", permPolicies, a.listParameters)
	a.handle("GET", "/api/parameters/{component}/{vhost}/{name}", permPolicies, a.getParameter)
	a.handle("PUT", "/api/parameters/{component}/{vhost}/{name}", permPolicies, a.putParameter)
	a.handle("DELETE", "/api/parameters/{component}/{vhost}/{name}", permPolicies, a.deleteParameter)
}

func limitsParameter(vhost string, l broker.Limits) map[string]any {
	return map[string]any{"vhost": vhost, "component": limitsComponent, "name": "limits", "value": limitsValue(l)}
}

// parameterRows are the parameters of component (all if empty) in the
// vhosts p sees (all for nil, as a definitions export wants; vhost only,
// if not empty).
func (a *api) parameterRows(p *broker.Principal, component, vhost string) []map[string]any {
	rows := []map[string]any{}
	if component != "" && component != limitsComponent {
		return rows
	}
	for _, v := range a.visibleVHosts(p) {
		if vhost != "" && v.Name != vhost {
			continue
		}
		if l, ok := a.b.VHostLimits(v.Name); ok && len(l) > 0 {
			rows = append(rows, limitsParameter(v.Name, l))
		}
	}
	return rows
}

func (a *api) listParameters(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	vhost := pathValue(r, "vhost")
	if r.PathValue("vhost") != "" {
		if _, ok := a.b.VHost(vhost); !ok {
			writeNotFound(w)
			return
		}
		if !a.seesVHost(p, vhost) {
			writeError(w, http.StatusUnauthorized, "not_authorised", "User not authorised to access virtual host")
			return
		}
	}
	writeList(w, r, a.parameterRows(p, pathValue(r, "component"), vhost))
}

func (a *api) getParameter(w http.ResponseWriter, r *http.Request, p *broker.Principal) {
	component, vhost, name := pathValue(r, "component"), pathValue(r, "vhost"), pathValue(r, "name")
	if component != limitsComponent || name != "limits" || !a.seesVHost(p, vhost) {
		writeNotFound(w)
		return
	}
	l, ok := a.b.VHostLimits(vhost)
	if !ok || len(l) == 0 {
		writeNotFound(w)
		return
	}
	writeJSON(w, limitsParameter(vhost, l))
}

func validationFailed(w http.ResponseWriter, reason string) {
	writeError(w, http.StatusBadRequest, "bad_request", "Validation failed\n\n"+reason+"\n")
}

// putParameter sets vhost-limits/<vhost>/limits to the body's value, a
// whole set of limits ({"max-queues": 10}), replacing the previous set.
func (a *api) putParameter(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	component, vhost, name := pathValue(r, "component"), pathValue(r, "vhost"), pathValue(r, "name")
	if _, ok := a.b.VHost(vhost); !ok {
		writeError(w, http.StatusNotFound, "not_found", "vhost_not_found")
		return
	}
	body, ok := decodeObject(w, r)
	if !ok {
		return
	}
	if component != limitsComponent {
		validationFailed(w, "component "+component+" not found")
		return
	}
	if !requireKeys(w, body, "value") {
		return
	}
	if name != "limits" {
		// RabbitMQ 3.10 stores it and then fails (500) reading it back.
		validationFailed(w, "vhost-limits parameters are named limits, not "+name)
		return
	}
	obj, isObj := body["value"].(map[string]any)
	if !isObj {
		validationFailed(w, "limits not a list "+erlTerm(body["value"]))
		return
	}
	l := broker.Limits{}
	for k, v := range obj {
		n, ok := integer(v)
		if !ok {
			validationFailed(w, k+" should be a number, actually was "+erlTerm(v))
			return
		}
		if !slices.Contains(vhostLimitNames, k) {
			validationFailed(w, `Unrecognised terms [{<<"`+k+`">>,`+erlTerm(v)+`}] in limits`)
			return
		}
		l[k] = n
	}
	a.setVHostLimits(w, vhost, l)
}

func (a *api) deleteParameter(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	component, vhost, name := pathValue(r, "component"), pathValue(r, "vhost"), pathValue(r, "name")
	l, ok := a.b.VHostLimits(vhost)
	if component != limitsComponent || name != "limits" || !ok || len(l) == 0 {
		writeNotFound(w)
		return
	}
	a.setVHostLimits(w, vhost, broker.Limits{})
}

// importParameters checks a definitions document's "parameters" and, in a
// per-vhost import (vhost not empty), sets the vhost limits they hold. A
// whole-broker import has set and stored them already, in the broker's
// ImportDefinitions (importDefinitions passes it the parameters), so they
// are only checked here. Other components are refused by name: Warren has
// nothing to hold them.
func (a *api) importParameters(params []map[string]any, vhost string) error {
	type set struct {
		vhost string
		l     broker.Limits
	}
	var sets []set
	for _, p := range params {
		c := str(p, "component")
		if c != limitsComponent {
			return fmt.Errorf("runtime parameters (%s) are not supported", c)
		}
		v := vhost
		if v == "" {
			v = str(p, "vhost")
		}
		if _, ok := a.b.VHost(v); !ok {
			return fmt.Errorf("vhost '%s' does not exist", v)
		}
		l := broker.Limits{}
		obj, _ := p["value"].(map[string]any)
		if _, isList := p["value"].([]any); !isList && obj == nil { // [] is RabbitMQ's "no limits left"
			return fmt.Errorf("limits of vhost '%s' must be an object", v)
		}
		for k, e := range obj {
			n, ok := integer(e)
			if !ok || !slices.Contains(vhostLimitNames, k) {
				return fmt.Errorf("limits of vhost '%s': bad limit %s: %s", v, k, erlTerm(e))
			}
			l[k] = n
		}
		sets = append(sets, set{v, l})
	}
	if vhost == "" {
		return nil
	}
	for _, s := range sets {
		if err := a.b.SetVHostLimits(s.vhost, s.l); err != nil {
			return fmt.Errorf("limits of vhost '%s': %v", s.vhost, err)
		}
	}
	return nil
}
