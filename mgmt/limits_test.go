package mgmt

import (
	"net/http"
	"reflect"
	"testing"
)

// /api/vhost-limits, /api/user-limits and /api/parameters with RabbitMQ
// 3.10's statuses and bodies (runnable against RabbitMQ with
// WARREN_MGMT_URL; the answers where RabbitMQ 3.10 fails with 500 are
// checked in-process only).
func TestVHostLimitsAndParameters(t *testing.T) {
	tg := newTarget(t, nil)
	vh := "limv-" + tg.id
	t.Cleanup(func() { tg.guest(t, "DELETE", "/api/vhosts/"+vh, "") })
	expect(t, "create vhost", tg.guest(t, "PUT", "/api/vhosts/"+vh, ""), http.StatusCreated, "")
	expect(t, "none yet", tg.guest(t, "GET", "/api/vhost-limits/"+vh, ""), http.StatusOK, "[]")
	expect(t, "set max-connections", tg.guest(t, "PUT", "/api/vhost-limits/"+vh+"/max-connections", `{"value":10}`), http.StatusNoContent, "")
	expect(t, "set max-queues", tg.guest(t, "PUT", "/api/vhost-limits/"+vh+"/max-queues", `{"value":1}`), http.StatusNoContent, "")
	want := []any{map[string]any{"vhost": vh, "value": map[string]any{"max-connections": 10.0, "max-queues": 1.0}}}
	if got := decodeJSON(t, "vhost limits", tg.guest(t, "GET", "/api/vhost-limits/"+vh, "").body); !reflect.DeepEqual(got, any(want)) {
		t.Errorf("vhost limits %v, want %v", got, want)
	}
	found := false
	for _, e := range decodeJSON(t, "all vhost limits", tg.guest(t, "GET", "/api/vhost-limits", "").body).([]any) {
		found = found || reflect.DeepEqual(e, want[0])
	}
	if !found {
		t.Errorf("/api/vhost-limits lacks %v", want[0])
	}
	param := map[string]any{"vhost": vh, "component": "vhost-limits", "name": "limits", "value": map[string]any{"max-connections": 10.0, "max-queues": 1.0}}
	if got := decodeJSON(t, "parameter", tg.guest(t, "GET", "/api/parameters/vhost-limits/"+vh+"/limits", "").body); !reflect.DeepEqual(got, any(param)) {
		t.Errorf("parameter %v, want %v", got, param)
	}
	if got := decodeJSON(t, "parameters of vhost", tg.guest(t, "GET", "/api/parameters/vhost-limits/"+vh, "").body); !reflect.DeepEqual(got, any([]any{param})) {
		t.Errorf("parameters of vhost %v", got)
	}
	expect(t, "unknown component", tg.guest(t, "GET", "/api/parameters/federation-upstream", ""), http.StatusOK, "[]")
	expect(t, "unknown component in vhost", tg.guest(t, "GET", "/api/parameters/shovel/"+vh, ""), http.StatusOK, "[]")
	expect(t, "missing vhost's parameters", tg.guest(t, "GET", "/api/parameters/vhost-limits/no-such-"+tg.id, ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)

	// The limit is in effect: a second queue is refused.
	expect(t, "permissions", tg.guest(t, "PUT", "/api/permissions/"+vh+"/guest", `{"configure":".*","write":".*","read":".*"}`), http.StatusNoContent, "")
	expect(t, "first queue", tg.guest(t, "PUT", "/api/queues/"+vh+"/q1", `{}`), http.StatusCreated, "")
	if got := tg.guest(t, "PUT", "/api/queues/"+vh+"/q2", `{}`); got.status != http.StatusBadRequest {
		t.Errorf("queue past max-queues: %d %s", got.status, got.body)
	}

	// Refusals, with RabbitMQ's reasons.
	expect(t, "unknown limit", tg.guest(t, "PUT", "/api/vhost-limits/"+vh+"/max-foo", `{"value":5}`), http.StatusBadRequest,
		`{"error":"bad_request","reason":"Validation failed\n\nUnrecognised terms [{<<\"max-foo\">>,5}] in limits\n"}`)
	expect(t, "string value", tg.guest(t, "PUT", "/api/vhost-limits/"+vh+"/max-queues", `{"value":"x"}`), http.StatusBadRequest,
		`{"error":"bad_request","reason":"Validation failed\n\nmax-queues should be a number, actually was <<\"x\">>\n"}`)
	expect(t, "float value", tg.guest(t, "PUT", "/api/vhost-limits/"+vh+"/max-queues", `{"value":2.5}`), http.StatusBadRequest,
		`{"error":"bad_request","reason":"Validation failed\n\nmax-queues should be a number, actually was 2.5\n"}`)
	expect(t, "no value", tg.guest(t, "PUT", "/api/vhost-limits/"+vh+"/max-queues", `{}`), http.StatusBadRequest, `{"error":"bad_request","reason":"[{key_missing,value}]"}`)
	expect(t, "not json", tg.guest(t, "PUT", "/api/vhost-limits/"+vh+"/max-queues", `garbage`), http.StatusBadRequest, `{"error":"bad_request","reason":"not_json"}`)
	expect(t, "missing vhost", tg.guest(t, "PUT", "/api/vhost-limits/no-such-"+tg.id+"/max-queues", `{"value":5}`), http.StatusNotFound, `{"error":"not_found","reason":"vhost_not_found"}`)
	expect(t, "missing vhost's limits", tg.guest(t, "GET", "/api/vhost-limits/no-such-"+tg.id, ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
	expect(t, "GET one limit", tg.guest(t, "GET", "/api/vhost-limits/"+vh+"/max-queues", ""), http.StatusMethodNotAllowed, "")
	expect(t, "unknown component PUT", tg.guest(t, "PUT", "/api/parameters/foo/"+vh+"/x", `{"value":{"a":1}}`), http.StatusBadRequest,
		`{"error":"bad_request","reason":"Validation failed\n\ncomponent foo not found\n"}`)
	expect(t, "limits not an object", tg.guest(t, "PUT", "/api/parameters/vhost-limits/"+vh+"/limits", `{"value":5}`), http.StatusBadRequest,
		`{"error":"bad_request","reason":"Validation failed\n\nlimits not a list 5\n"}`)

	// Removing one limit, then the parameter as a whole.
	expect(t, "delete one", tg.guest(t, "DELETE", "/api/vhost-limits/"+vh+"/max-connections", ""), http.StatusNoContent, "")
	expect(t, "delete one again", tg.guest(t, "DELETE", "/api/vhost-limits/"+vh+"/max-connections", ""), http.StatusNoContent, "")
	want = []any{map[string]any{"vhost": vh, "value": map[string]any{"max-queues": 1.0}}}
	if got := decodeJSON(t, "vhost limits", tg.guest(t, "GET", "/api/vhost-limits/"+vh, "").body); !reflect.DeepEqual(got, any(want)) {
		t.Errorf("after delete: %v, want %v", got, want)
	}
	expect(t, "parameter PUT", tg.guest(t, "PUT", "/api/parameters/vhost-limits/"+vh+"/limits", `{"value":{"max-queues":4}}`), http.StatusNoContent, "")
	want = []any{map[string]any{"vhost": vh, "value": map[string]any{"max-queues": 4.0}}}
	if got := decodeJSON(t, "vhost limits", tg.guest(t, "GET", "/api/vhost-limits/"+vh, "").body); !reflect.DeepEqual(got, any(want)) {
		t.Errorf("after parameter PUT: %v, want %v", got, want)
	}
	if doc := object(t, tg, "/api/definitions/"+vh); !reflect.DeepEqual(doc["parameters"], []any{map[string]any{"vhost": vh, "component": "vhost-limits", "name": "limits", "value": map[string]any{"max-queues": 4.0}}}) {
		t.Errorf("definitions' parameters: %v", doc["parameters"])
	}
	expect(t, "parameter DELETE", tg.guest(t, "DELETE", "/api/parameters/vhost-limits/"+vh+"/limits", ""), http.StatusNoContent, "")
	expect(t, "gone", tg.guest(t, "GET", "/api/vhost-limits/"+vh, ""), http.StatusOK, "[]")
	expect(t, "missing parameter", tg.guest(t, "GET", "/api/parameters/vhost-limits/"+vh+"/limits", ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)

	// A definitions document's vhost-limits parameter imports.
	doc := `{"parameters":[{"vhost":"` + vh + `","component":"vhost-limits","name":"limits","value":{"max-connections":3}}]}`
	if got := tg.guest(t, "POST", "/api/definitions", doc); got.status/100 != 2 {
		t.Fatalf("import: %d %s", got.status, got.body)
	}
	want = []any{map[string]any{"vhost": vh, "value": map[string]any{"max-connections": 3.0}}}
	if got := decodeJSON(t, "imported limits", tg.guest(t, "GET", "/api/vhost-limits/"+vh, "").body); !reflect.DeepEqual(got, any(want)) {
		t.Errorf("imported limits %v, want %v", got, want)
	}
	if !tg.external { // RabbitMQ 3.10 answers 500 to these
		expect(t, "delete in missing vhost", tg.guest(t, "DELETE", "/api/vhost-limits/no-such-"+tg.id+"/max-queues", ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
		expect(t, "other name", tg.guest(t, "PUT", "/api/parameters/vhost-limits/"+vh+"/other", `{"value":{"max-queues":4}}`), http.StatusBadRequest,
			`{"error":"bad_request","reason":"Validation failed\n\nvhost-limits parameters are named limits, not other\n"}`)
	}
}

func TestUserLimits(t *testing.T) {
	tg := newTarget(t, nil)
	user := "limu-" + tg.id
	t.Cleanup(func() { tg.guest(t, "DELETE", "/api/users/"+user, "") })
	expect(t, "create user", tg.guest(t, "PUT", "/api/users/"+user, `{"password":"pw","tags":""}`), http.StatusCreated, "")
	expect(t, "none yet", tg.guest(t, "GET", "/api/user-limits/"+user, ""), http.StatusOK, "[]")
	expect(t, "set max-channels", tg.guest(t, "PUT", "/api/user-limits/"+user+"/max-channels", `{"value":7}`), http.StatusNoContent, "")
	expect(t, "set max-connections", tg.guest(t, "PUT", "/api/user-limits/"+user+"/max-connections", `{"value":3}`), http.StatusNoContent, "")
	want := []any{map[string]any{"user": user, "value": map[string]any{"max-channels": 7.0, "max-connections": 3.0}}}
	if got := decodeJSON(t, "user limits", tg.guest(t, "GET", "/api/user-limits/"+user, "").body); !reflect.DeepEqual(got, any(want)) {
		t.Errorf("user limits %v, want %v", got, want)
	}
	found := false
	for _, e := range decodeJSON(t, "all user limits", tg.guest(t, "GET", "/api/user-limits", "").body).([]any) {
		found = found || reflect.DeepEqual(e, want[0])
	}
	if !found {
		t.Errorf("/api/user-limits lacks %v", want[0])
	}
	expect(t, "unknown limit", tg.guest(t, "PUT", "/api/user-limits/"+user+"/max-queues", `{"value":7}`), http.StatusBadRequest,
		`{"error":"bad_request","reason":"Unrecognised terms [{<<\"max-queues\">>,7}] in user-limits"}`)
	expect(t, "string value", tg.guest(t, "PUT", "/api/user-limits/"+user+"/max-channels", `{"value":"x"}`), http.StatusBadRequest,
		`{"error":"bad_request","reason":"max-channels should be a number, actually was <<\"x\">>"}`)
	expect(t, "no value", tg.guest(t, "PUT", "/api/user-limits/"+user+"/max-channels", `{}`), http.StatusBadRequest, `{"error":"bad_request","reason":"[{key_missing,value}]"}`)
	expect(t, "missing user", tg.guest(t, "PUT", "/api/user-limits/no-such-"+tg.id+"/max-channels", `{"value":7}`), http.StatusBadRequest,
		`{"error":"bad_request","reason":["no_such_user","no-such-`+tg.id+`"]}`)
	expect(t, "missing user's limits", tg.guest(t, "GET", "/api/user-limits/no-such-"+tg.id, ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
	expect(t, "delete one", tg.guest(t, "DELETE", "/api/user-limits/"+user+"/max-channels", ""), http.StatusNoContent, "")
	expect(t, "delete unset", tg.guest(t, "DELETE", "/api/user-limits/"+user+"/max-foo", ""), http.StatusNoContent, "")
	want = []any{map[string]any{"user": user, "value": map[string]any{"max-connections": 3.0}}}
	if got := decodeJSON(t, "user limits", tg.guest(t, "GET", "/api/user-limits/"+user, "").body); !reflect.DeepEqual(got, any(want)) {
		t.Errorf("after delete: %v, want %v", got, want)
	}
	expect(t, "delete last", tg.guest(t, "DELETE", "/api/user-limits/"+user+"/max-connections", ""), http.StatusNoContent, "")
	expect(t, "none left", tg.guest(t, "GET", "/api/user-limits/"+user, ""), http.StatusOK, "[]")
	if !tg.external { // RabbitMQ 3.10 answers 500
		expect(t, "delete of missing user", tg.guest(t, "DELETE", "/api/user-limits/no-such-"+tg.id+"/max-channels", ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
	}
}
