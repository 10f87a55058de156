package mgmt

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"testing"
)

// A definitions file that RabbitMQ 3.10.8 exported
// (testdata/rabbitmq-3.10.8-definitions.json: the objects of one vhost, a
// user, a global parameter, taken from the shared RabbitMQ's
// /api/definitions and deleted there after) imports into Warren, and
// Warren's export carries every object of it back equal, field for field.
func TestDefinitionsFromRabbitMQRoundTrip(t *testing.T) {
	tg := newTarget(t, nil)
	if tg.external {
		t.Skip("would create the fixture's vhost and user on the external broker")
	}
	raw, err := os.ReadFile("testdata/rabbitmq-3.10.8-definitions.json")
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "import", tg.guest(t, "POST", "/api/definitions", string(raw)), http.StatusNoContent, "")
	var in, out map[string]any
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatal(err)
	}
	exported := tg.guest(t, "GET", "/api/definitions", "")
	if err := json.Unmarshal([]byte(exported.body), &out); err != nil {
		t.Fatal(err)
	}
	// Objects are matched by their identity within each section.
	ids := map[string][]string{
		"users": {"name"}, "vhosts": {"name"}, "permissions": {"user", "vhost"}, "topic_permissions": {"user", "vhost", "exchange"},
		"parameters": {"component", "vhost", "name"}, "global_parameters": {"name"}, "policies": {"vhost", "name"},
		"queues": {"vhost", "name"}, "exchanges": {"vhost", "name"},
		"bindings": {"vhost", "source", "destination", "destination_type", "routing_key"},
	}
	for section, keys := range ids {
		id := func(m map[string]any) string {
			s := ""
			for _, k := range keys {
				s += fmt.Sprint(m[k]) + "\x00"
			}
			return s
		}
		got := map[string]map[string]any{}
		for _, e := range out[section].([]any) {
			got[id(e.(map[string]any))] = e.(map[string]any)
		}
		want := in[section].([]any)
		if len(want) == 0 {
			t.Fatalf("the fixture has no %s", section)
		}
		for _, e := range want {
			w := e.(map[string]any)
			if g := got[id(w)]; !reflect.DeepEqual(g, w) {
				t.Errorf("%s: exported\n  %v\nwant (RabbitMQ's)\n  %v", section, g, w)
			}
		}
	}
	// The imported user logs in with the password RabbitMQ hashed.
	if got := tg.do(t, "GET", "/api/whoami", "warren-fixture-app", "s3cret", "", ""); got.status != http.StatusOK {
		t.Errorf("fixture user login: %d %s", got.status, got.body)
	}
}
