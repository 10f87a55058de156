package mgmt

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// ofPrefix keeps a definitions document's queues, exchanges, bindings and
// policies whose name (or source) starts with prefix, sorted, so that
// documents from brokers shared with other tests compare.
func ofPrefix(t *testing.T, doc string, prefix string) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatalf("definitions: %v in %.200s", err, doc)
	}
	out := map[string]any{}
	for _, k := range []string{"queues", "exchanges", "bindings", "policies"} {
		var kept []any
		list, _ := d[k].([]any)
		for _, e := range list {
			m := e.(map[string]any)
			name, _ := m["name"].(string)
			if k == "bindings" {
				name, _ = m["source"].(string)
			}
			if strings.HasPrefix(name, prefix) {
				kept = append(kept, m)
			}
		}
		sort.Slice(kept, func(i, j int) bool {
			a, _ := json.Marshal(kept[i])
			b, _ := json.Marshal(kept[j])
			return string(a) < string(b)
		})
		out[k] = kept
	}
	return out
}

// Export a vhost's definitions, delete the objects, import the export:
// the next export is the same. The whole-broker export has RabbitMQ's
// top-level keys, and the objects carry their vhost.
func TestDefinitionsRoundTrip(t *testing.T) {
	tg := newTarget(t, nil)
	prefix := "warren-defs-" + tg.id
	q, x, x2 := prefix+"-q", prefix+"-x", prefix+"-x2"
	for _, path := range []string{"/api/queues/%2F/" + q, "/api/exchanges/%2F/" + x, "/api/exchanges/%2F/" + x2, "/api/policies/%2F/" + prefix} {
		tg.deleteAtEnd(t, path)
	}
	expect(t, "queue", tg.guest(t, "PUT", "/api/queues/%2F/"+q, `{"durable":true,"arguments":{"x-max-length":7,"x-custom":"v"}}`), http.StatusCreated, "")
	expect(t, "exchange", tg.guest(t, "PUT", "/api/exchanges/%2F/"+x, `{"type":"topic","durable":true}`), http.StatusCreated, "")
	expect(t, "exchange 2", tg.guest(t, "PUT", "/api/exchanges/%2F/"+x2, `{"type":"fanout","durable":true,"internal":true}`), http.StatusCreated, "")
	expect(t, "binding", tg.guest(t, "POST", "/api/bindings/%2F/e/"+x+"/q/"+q, `{"routing_key":"a.*","arguments":{"k":"v"}}`), http.StatusCreated, "")
	expect(t, "e2e binding", tg.guest(t, "POST", "/api/bindings/%2F/e/"+x+"/e/"+x2, `{"routing_key":"#"}`), http.StatusCreated, "")
	expect(t, "policy", tg.guest(t, "PUT", "/api/policies/%2F/"+prefix, `{"pattern":"^`+prefix+`-nothing$","definition":{"max-length":3},"priority":0,"apply-to":"queues"}`), http.StatusCreated, "")

	exported := tg.guest(t, "GET", "/api/definitions/%2F", "")
	before := ofPrefix(t, exported.body, prefix)
	if exported.status != http.StatusOK || len(before["queues"].([]any)) != 1 || len(before["exchanges"].([]any)) != 2 || len(before["bindings"].([]any)) != 2 || len(before["policies"].([]any)) != 1 {
		t.Fatalf("export: %d %v", exported.status, before)
	}
	wantQ := map[string]any{"name": q, "durable": true, "auto_delete": false, "arguments": map[string]any{"x-max-length": 7.0, "x-custom": "v"}}
	if !reflect.DeepEqual(before["queues"].([]any)[0], any(wantQ)) {
		t.Errorf("exported queue %v, want %v", before["queues"].([]any)[0], wantQ)
	}
	var keys []string
	var doc map[string]any
	_ = json.Unmarshal([]byte(exported.body), &doc)
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if want := []string{"bindings", "exchanges", "parameters", "policies", "queues", "rabbit_version"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("vhost export keys %v, want %v", keys, want)
	}

	for _, path := range []string{"/api/queues/%2F/" + q, "/api/exchanges/%2F/" + x, "/api/exchanges/%2F/" + x2, "/api/policies/%2F/" + prefix} {
		expect(t, "delete "+path, tg.guest(t, "DELETE", path, ""), http.StatusNoContent, "")
	}
	doc = map[string]any{"rabbit_version": "3.10.8", "parameters": []any{}}
	for k, v := range before {
		doc[k] = v
	}
	data, _ := json.Marshal(doc)
	expect(t, "import", tg.guest(t, "POST", "/api/definitions/%2F", string(data)), http.StatusNoContent, "")
	after := ofPrefix(t, tg.guest(t, "GET", "/api/definitions/%2F", "").body, prefix)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("after import:\n%v\nwant\n%v", after, before)
	}

	full := tg.guest(t, "GET", "/api/definitions", "")
	var fd map[string]any
	if err := json.Unmarshal([]byte(full.body), &fd); err != nil || full.status != http.StatusOK {
		t.Fatalf("full export: %d %v", full.status, err)
	}
	for _, k := range []string{"rabbit_version", "rabbitmq_version", "product_name", "product_version", "users", "vhosts", "permissions", "topic_permissions", "parameters", "global_parameters", "policies", "queues", "exchanges", "bindings"} {
		if _, ok := fd[k]; !ok {
			t.Errorf("full export lacks %s", k)
		}
	}
	for _, e := range fd["queues"].([]any) {
		if m := e.(map[string]any); m["name"] == q && m["vhost"] != "/" {
			t.Errorf("full export's queue without its vhost: %v", m)
		}
	}
}

// What Warren cannot hold faithfully is refused by name, not dropped.
func TestDefinitionsImportRefusals(t *testing.T) {
	tg := newTarget(t, nil)
	if tg.external {
		t.Skip("Warren's own limits")
	}
	for what, c := range map[string]struct{ doc, reason string }{
		"missing vhost": {`{"queues":[{"name":"q","vhost":"elsewhere","durable":true,"auto_delete":false,"arguments":{}}]}`, "vhost 'elsewhere' does not exist"},
		"parameters":    {`{"parameters":[{"component":"shovel","name":"s","vhost":"/","value":{}}]}`, "runtime parameters (shovel) are not supported"},
		"bad hash":      {`{"users":[{"name":"u","password_hash":"AAAA","hashing_algorithm":"rabbit_password_hashing_sha256","tags":[]}]}`, "user 'u': password_hash has the wrong length for rabbit_password_hashing_sha256"},
	} {
		want, _ := json.Marshal(map[string]string{"error": "bad_request", "reason": c.reason})
		expect(t, what, tg.guest(t, "POST", "/api/definitions", c.doc), http.StatusBadRequest, string(want))
	}
}

// A user exported with RabbitMQ's hash logs in with the same password.
func TestDefinitionsImportUser(t *testing.T) {
	tg := newTarget(t, nil)
	if tg.external {
		t.Skip("creates a user")
	}
	// rabbitmqctl hash_password secret's layout, made here: salt, sha256(salt+"secret").
	u := tg.guest(t, "GET", "/api/users/guest", "")
	var guest map[string]any
	_ = json.Unmarshal([]byte(u.body), &guest)
	doc := `{"users":[{"name":"copy","password_hash":"` + guest["password_hash"].(string) + `","hashing_algorithm":"rabbit_password_hashing_sha256","tags":["administrator"],"limits":{}}]}`
	expect(t, "import user", tg.guest(t, "POST", "/api/definitions", doc), http.StatusNoContent, "")
	got := tg.do(t, "GET", "/api/whoami", "copy", "guest", "", "")
	if got.status != http.StatusOK || !strings.Contains(got.body, `"name":"copy"`) {
		t.Errorf("imported user with guest's hash, password guest: %d %s", got.status, got.body)
	}
	// vhosts, permissions and topic permissions go to the broker's table.
	doc = `{"vhosts":[{"name":"imported"}],"permissions":[{"user":"copy","vhost":"imported","configure":"^x","write":".*","read":""}],` +
		`"topic_permissions":[{"user":"copy","vhost":"imported","exchange":"amq.topic","write":"^k","read":".*"}],` +
		`"queues":[{"name":"q","vhost":"imported","durable":true,"auto_delete":false,"arguments":{}}]}`
	expect(t, "import vhost", tg.guest(t, "POST", "/api/definitions", doc), http.StatusNoContent, "")
	if p := object(t, tg, "/api/permissions/imported/copy"); p["configure"] != "^x" || p["read"] != "" {
		t.Errorf("imported permission: %v", p)
	}
	if len(decodeJSON(t, "topic permissions", tg.guest(t, "GET", "/api/topic-permissions/imported/copy", "").body).([]any)) != 1 {
		t.Error("imported topic permission missing")
	}
	if v, ok := tg.b.VHost("imported"); !ok || len(v.Queues()) != 1 {
		t.Errorf("imported vhost and its queue: %v", ok)
	}
}
