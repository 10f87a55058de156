package mgmt

import (
	"encoding/json"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// RabbitMQ 3.10.8's own rabbitmqadmin (testdata/rabbitmqadmin, MPL 2.0,
// as its management plugin serves it on /cli/rabbitmqadmin) lists,
// declares, publishes, gets, deletes, closes and exports/imports against
// Warren. With WARREN_MGMT_URL the same runs against RabbitMQ.
func TestRabbitmqadmin(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	tg := newAMQPTarget(t)
	u, err := url.Parse(tg.base)
	if err != nil {
		t.Fatal(err)
	}
	admin := func(args ...string) (string, error) {
		t.Helper()
		all := append([]string{filepath.Join("testdata", "rabbitmqadmin"), "-H", u.Hostname(), "-P", u.Port(), "-u", "guest", "-p", "guest"}, args...)
		out, err := exec.Command(py, all...).CombinedOutput()
		return string(out), err
	}
	must := func(want string, args ...string) string {
		t.Helper()
		out, err := admin(args...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("rabbitmqadmin %s: %v\n%s(want %q)", strings.Join(args, " "), err, out, want)
		}
		return out
	}
	rawJSON := func(args ...string) []map[string]any {
		t.Helper()
		out := must("", append([]string{"-f", "raw_json"}, args...)...)
		var rows []map[string]any
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("rabbitmqadmin %s: %v in %s", strings.Join(args, " "), err, out)
		}
		return rows
	}
	q, x, vh, user := "adm-q-"+tg.id, "adm-x-"+tg.id, "adm-v-"+tg.id, "adm-u-"+tg.id
	t.Cleanup(func() {
		_, _ = admin("delete", "queue", "name="+q)
		_, _ = admin("delete", "exchange", "name="+x)
		_, _ = admin("delete", "vhost", "name="+vh)
		_, _ = admin("delete", "user", "name="+user)
	})

	must("queue declared", "declare", "queue", "name="+q, "durable=true", `arguments={"x-max-length":10}`)
	must("exchange declared", "declare", "exchange", "name="+x, "type=topic")
	must("binding declared", "declare", "binding", "source="+x, "destination="+q, "routing_key=k.*")
	must("binding declared", "declare", "binding", "source="+x, "destination=amq.fanout", "destination_type=exchange", "routing_key=e")
	found := 0
	for _, b := range rawJSON("list", "bindings") {
		if b["source"] == x && (b["destination"] == q && b["routing_key"] == "k.*" || b["destination"] == "amq.fanout" && b["destination_type"] == "exchange") {
			found++
		}
	}
	if found != 2 {
		t.Errorf("list bindings: %d of the 2 bindings", found)
	}
	must("| "+x+" ", "list", "exchanges")
	must("Message published\n", "publish", "exchange="+x, "routing_key=k.1", "payload=hello", `properties={"content_type":"text/plain","headers":{"h":1}}`)
	must("Message published\n", "publish", "routing_key="+q, "payload=second")
	must("Message published but NOT routed", "publish", "exchange="+x, "routing_key=none", "payload=lost")
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := must("", "-f", "tsv", "list", "queues", "name", "messages")
		if strings.Contains(out, q+"\t2\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("list queues never showed 2 messages:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := rawJSON("get", "queue="+q, "count=2")
	if len(got) != 2 || got[0]["payload"] != "hello" || got[1]["payload"] != "second" || got[0]["exchange"] != x {
		t.Fatalf("get count=2: %v", got)
	}
	if props, _ := got[0]["properties"].(map[string]any); props["content_type"] != "text/plain" {
		t.Errorf("get: properties %v", got[0]["properties"])
	}
	got = rawJSON("get", "queue="+q, "ackmode=ack_requeue_false")
	if len(got) != 1 || got[0]["payload"] != "hello" || got[0]["redelivered"] != true {
		t.Fatalf("get ack_requeue_false: %v", got)
	}
	must("queue purged", "purge", "queue", "name="+q)

	defs := filepath.Join(t.TempDir(), "defs.json")
	must("Exported definitions", "export", defs)
	must("binding deleted", "delete", "binding", "source="+x, "destination="+q, "destination_type=queue", "properties_key=k.*")
	// rabbitmqadmin's default properties_key "~" names the empty routing key.
	must("binding declared", "declare", "binding", "source=amq.direct", "destination="+q)
	must("binding deleted", "delete", "binding", "source=amq.direct", "destination="+q, "destination_type=queue")
	must("exchange deleted", "delete", "exchange", "name="+x)
	must("queue deleted", "delete", "queue", "name="+q)
	must("Uploaded definitions", "import", defs)
	back := false
	for _, row := range rawJSON("list", "queues") {
		back = back || (row["name"] == q && row["durable"] == true)
	}
	if !back {
		t.Errorf("the queue did not come back from the export")
	}

	must("vhost declared", "declare", "vhost", "name="+vh)
	must("user declared", "declare", "user", "name="+user, "password=pw", "tags=management")
	must("permission declared", "declare", "permission", "vhost="+vh, "user="+user, "configure=.*", "write=.*", "read=.*")
	must("policy declared", "-V", vh, "declare", "policy", "name=cap", "pattern=^a", `definition={"max-length":5}`, "apply-to=queues")
	must("| "+user+" ", "list", "users")
	must("| "+vh+" ", "list", "vhosts")
	must("| cap ", "-V", vh, "list", "policies")
	must("vhost_limit declared", "declare", "vhost_limit", "vhost="+vh, "name=max-queues", "value=5")
	must(`{"max-queues": 5}`, "list", "vhost_limits")
	must("parameter declared", "-V", vh, "declare", "parameter", "component=vhost-limits", "name=limits", `value={"max-queues":9}`)
	must(`{"max-queues": 9}`, "-V", vh, "list", "parameters")
	must("parameter deleted", "-V", vh, "delete", "parameter", "component=vhost-limits", "name=limits")
	must("policy deleted", "-V", vh, "delete", "policy", "name=cap")
	must("permission deleted", "delete", "permission", "vhost="+vh, "user="+user)
	must("user deleted", "delete", "user", "name="+user)
	must("vhost deleted", "delete", "vhost", "name="+vh)

	// A client connection, seen and closed.
	c := tg.dial(t, "adm-"+tg.id)
	closed := c.NotifyClose(make(chan *amqp.Error, 1))
	var name string
	poll(t, "the connection is listed", func() bool {
		for _, row := range rawJSON("list", "connections") {
			if props, _ := row["client_properties"].(map[string]any); props["connection_name"] == "adm-"+tg.id {
				name, _ = row["name"].(string)
			}
		}
		return name != ""
	})
	// Its channel, with the state RabbitMQ shows (after its next
	// statistics emission).
	ach, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ach.Qos(4, 0, false); err != nil {
		t.Fatal(err)
	}
	poll(t, "the channel is listed with its prefetch", func() bool {
		for _, row := range rawJSON("list", "channels") {
			if row["name"] == name+" (1)" && row["prefetch_count"] == 4.0 && row["confirm"] == false && row["messages_unacknowledged"] == 0.0 {
				return true
			}
		}
		return false
	})
	must("connection closed", "close", "connection", "name="+name)
	select {
	case e := <-closed:
		if e == nil || e.Code != 320 {
			t.Errorf("close: %v", e)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the connection was not closed")
	}
	must("rabbitmq_version", "show", "overview")
	must(" mem_used ", "list", "nodes") // the column is as wide as its widest value
}
