package mgmt

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// /api/global-parameters as RabbitMQ answers it: internal_cluster_id is
// there from the start; PUT creates (201) and replaces (204) any JSON
// value, the body's name ignored; a missing value or a body that is not
// JSON is a 400; DELETE removes (204, then 404).
func TestGlobalParameters(t *testing.T) {
	tg := newTarget(t, nil)
	name := "warren-gp-" + tg.id
	path := "/api/global-parameters/" + name
	tg.deleteAtEnd(t, path)

	find := func(name string) (any, bool) {
		for _, e := range decodeJSON(t, "list", tg.guest(t, "GET", "/api/global-parameters", "").body).([]any) {
			if m := e.(map[string]any); m["name"] == name {
				return m["value"], true
			}
		}
		return nil, false
	}
	if id, _ := find("internal_cluster_id"); !strings.HasPrefix(id.(string), "rabbitmq-cluster-id-") {
		t.Errorf("internal_cluster_id %v", id)
	}
	expect(t, "create", tg.guest(t, "PUT", path, `{"value":{"a":1}}`), http.StatusCreated, "")
	if got := object(t, tg, path); !reflect.DeepEqual(got, map[string]any{"name": name, "value": map[string]any{"a": 1.0}}) {
		t.Errorf("GET: %v", got)
	}
	expect(t, "replace", tg.guest(t, "PUT", path, `{"name":"ignored","value":"str"}`), http.StatusNoContent, "")
	if v, ok := find(name); !ok || v != "str" {
		t.Errorf("listed value %v %v, want str", v, ok)
	}
	if _, ok := find("ignored"); ok {
		t.Error("the body's name made a parameter")
	}
	expect(t, "no value", tg.guest(t, "PUT", path, `{"x":5}`), http.StatusBadRequest, `{"error":"bad_request","reason":"[{key_missing,value}]"}`)
	expect(t, "not JSON", tg.guest(t, "PUT", path, `nonjson`), http.StatusBadRequest, `{"error":"bad_request","reason":"not_json"}`)

	// The whole-broker export carries it; an import sets it.
	found := false
	for _, e := range decodeJSON(t, "export", tg.guest(t, "GET", "/api/definitions", "").body).(map[string]any)["global_parameters"].([]any) {
		m := e.(map[string]any)
		found = found || (m["name"] == name && m["value"] == "str")
	}
	if !found {
		t.Errorf("%s not in the export's global_parameters", name)
	}
	expect(t, "import", tg.guest(t, "POST", "/api/definitions", `{"global_parameters":[{"name":"`+name+`","value":[1,"two"]}]}`), http.StatusNoContent, "")
	if v, _ := find(name); !reflect.DeepEqual(v, []any{1.0, "two"}) {
		t.Errorf("after import: %v", v)
	}

	expect(t, "delete", tg.guest(t, "DELETE", path, ""), http.StatusNoContent, "")
	expect(t, "delete again", tg.guest(t, "DELETE", path, ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
	expect(t, "get deleted", tg.guest(t, "GET", path, ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
}

// cluster_name, once set, is the overview's cluster_name. (Not run
// against an external RabbitMQ, whose name this would change.)
func TestGlobalParameterClusterName(t *testing.T) {
	tg := newTarget(t, nil)
	if tg.external {
		t.Skip("would rename the external broker's cluster")
	}
	expect(t, "set", tg.guest(t, "PUT", "/api/global-parameters/cluster_name", `{"value":"warren-test-cluster"}`), http.StatusCreated, "")
	if got := object(t, tg, "/api/overview")["cluster_name"]; got != "warren-test-cluster" {
		t.Errorf("overview cluster_name %v", got)
	}
}
