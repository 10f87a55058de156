package mgmt

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/warrenmq/warren/broker"
)

// /api/global-parameters[/name], RabbitMQ's global runtime parameters
// (internal_cluster_id, cluster_name, ...), stored by the broker
// (broker/global_params.go). RabbitMQ lets administrators and
// policymakers at them, as it does policies.

func (a *api) registerGlobalParameters() {
	a.handle("GET", "/api/global-parameters", permPolicies, a.listGlobalParameters)
	a.handle("GET", "/api/global-parameters/{$}", permPolicies, a.listGlobalParameters)
	a.handle("GET", "/api/global-parameters/{name}", permPolicies, a.getGlobalParameter)
	a.handle("PUT", "/api/global-parameters/{name}", permPolicies, a.putGlobalParameter)
	a.handle("DELETE", "/api/global-parameters/{name}", permPolicies, a.deleteGlobalParameter)
}

// globalParameterRows are the parameters as RabbitMQ lists them (and as a
// definitions export carries them): {"name": ..., "value": ...}.
func (a *api) globalParameterRows() ([]map[string]any, error) {
	ps, err := a.b.GlobalParameters()
	if err != nil {
		return nil, err
	}
	rows := make([]map[string]any, 0, len(ps))
	for _, p := range ps {
		rows = append(rows, map[string]any{"name": p.Name, "value": p.Value})
	}
	return rows, nil
}

func (a *api) listGlobalParameters(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	rows, err := a.globalParameterRows()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal_server_error", err.Error())
		return
	}
	writeList(w, r, rows)
}

func (a *api) getGlobalParameter(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	name := pathValue(r, "name")
	v, ok, err := a.b.GlobalParameterValue(name)
	switch {
	case err != nil:
		writeError(w, http.StatusInternalServerError, "internal_server_error", err.Error())
	case !ok:
		writeNotFound(w)
	default:
		writeJSON(w, map[string]any{"name": name, "value": v})
	}
}

// putGlobalParameter sets the path's parameter to the body's value (any
// JSON); a name in the body is ignored, as RabbitMQ ignores it. 201 when
// new, 204 when replaced.
func (a *api) putGlobalParameter(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	body, ok := decodeObject(w, r)
	if !ok || !requireKeys(w, body, "value") {
		return
	}
	a.setGlobalParameter(w, pathValue(r, "name"), body["value"])
}

func (a *api) setGlobalParameter(w http.ResponseWriter, name string, value any) {
	raw, err := json.Marshal(value)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	created, err := a.b.SetGlobalParameter(name, raw)
	switch {
	case err != nil:
		writeError(w, http.StatusInternalServerError, "internal_server_error", err.Error())
	case created:
		w.WriteHeader(http.StatusCreated)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (a *api) deleteGlobalParameter(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	found, err := a.b.DeleteGlobalParameter(pathValue(r, "name"))
	switch {
	case err != nil:
		writeError(w, http.StatusInternalServerError, "internal_server_error", err.Error())
	case !found:
		writeNotFound(w)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// importGlobalParameters sets a definitions document's global_parameters
// (RabbitMQ's import sets each, internal_cluster_id included).
func (a *api) importGlobalParameters(params []map[string]any) error {
	for _, g := range params {
		name, ok := g["name"].(string)
		if !ok || name == "" {
			return fmt.Errorf("global parameter without a name: %v", g)
		}
		v, has := g["value"]
		if !has {
			return fmt.Errorf("global parameter '%s' has no value", name)
		}
		raw, err := json.Marshal(v)
		if err == nil {
			_, err = a.b.SetGlobalParameter(name, raw)
		}
		if err != nil {
			return fmt.Errorf("global parameter '%s': %v", name, err)
		}
	}
	return nil
}
