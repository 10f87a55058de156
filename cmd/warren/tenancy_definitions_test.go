//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// vhostURL is p's AMQP URL for user/pass in vhost.
func vhostURL(p *warrenProc, user, pass, vhost string) string {
	return "amqp://" + user + ":" + pass + "@" + p.addr + "/" + strings.ReplaceAll(vhost, "/", "%2F")
}

// load_definitions imports testdata/definitions.json (two vhosts, users
// with SHA-256 and SHA-512 hashes, permissions, topic permissions, a vhost
// limit, a policy, queues, exchanges, an exchange-to-exchange binding; a
// file RabbitMQ 3.10.8 imports) at start: its users log in, its topology
// routes, the default user is not seeded, and a restart imports it again
// without losing what the queues hold.
func TestLoadDefinitionsAtBoot(t *testing.T) {
	defs, err := filepath.Abs("testdata/definitions.json")
	if err != nil {
		t.Fatal(err)
	}
	conf := writeConf(t, "load_definitions = "+defs+"\n")
	data := t.TempDir() + "/data"
	p := startWarren(t, data, procOptions{args: []string{"-config", conf}})
	if !strings.Contains(p.log(), `msg="definitions imported"`) {
		t.Errorf("no import in the log:\n%s", p.log())
	}
	if strings.Contains(p.log(), "not yet in effect") {
		t.Errorf("load_definitions reported as not in effect:\n%s", p.log())
	}
	c := mustDial(t, vhostURL(p, "orders-app", "orders-secret", "orders"))
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Publish("orders.in", "order.created", false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte("order-1")}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"orders.new", "orders.audit"} { // the second through orders.fanout
		waitGet(t, ch, q, "order-1")
	}
	if err := ch.Publish("orders.in", "order.created", false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte("order-2")}); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	if c, err := dialAMQP(vhostURL(p, "ops", "ops-secret", "telemetry"), 0); err != nil {
		t.Errorf("ops (a SHA-512 hash) cannot log in: %v", err)
	} else {
		_ = c.Close()
	}
	if c, err := dialAMQP(p.url, 0); err == nil {
		_ = c.Close()
		t.Error("guest logs in: with definitions to load the default user must not be seeded")
	}
	// Nor the default vhost: the file has none named "/".
	if c, err := dialAMQP(vhostURL(p, "ops", "ops-secret", "/"), 0); err == nil {
		_ = c.Close()
		t.Error("ops opens vhost /: with definitions to load the default vhost must not be seeded")
	} else if !strings.Contains(err.Error(), "vhost / not found") {
		t.Errorf("ops opening vhost /: %v, want 530 vhost / not found", err)
	}
	// The vhost limit of the file: max-connections 2 on telemetry.
	var open []*amqp.Connection
	for range 2 {
		open = append(open, mustDial(t, vhostURL(p, "metrics", "metrics-secret", "telemetry")))
	}
	if c, err := dialAMQP(vhostURL(p, "metrics", "metrics-secret", "telemetry"), 0); err == nil {
		_ = c.Close()
		t.Error("a third connection to telemetry passed its max-connections 2")
	}
	for _, c := range open {
		_ = c.Close()
	}

	if code, ok := p.signal(syscall.SIGTERM, 30*time.Second); !ok || code != 0 {
		t.Fatalf("stop: exit %d (exited %v)", code, ok)
	}
	p = startWarren(t, data, procOptions{args: []string{"-config", conf}})
	c = mustDial(t, vhostURL(p, "orders-app", "orders-secret", "orders"))
	defer c.Close()
	ch, err = c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	waitGet(t, ch, "orders.new", "order-2")
	p.checkLog(t, "load_definitions")
}

// waitGet gets one message from q, which must be body.
func waitGet(t *testing.T, ch *amqp.Channel, q, body string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, ok, err := ch.Get(q, true)
		if err != nil {
			t.Fatalf("get %s: %v", q, err)
		}
		if ok {
			if string(d.Body) != body {
				t.Fatalf("%s holds %q, want %q", q, d.Body, body)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no message %q", q, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A definitions file that cannot be imported stops the start with exit
// status 2 and one line naming the file and the reason, before any
// listener opens.
func TestLoadDefinitionsBadFileStopsStart(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, text, want string }{
		{"syntax.json", `{"queues": [}`, "not JSON"},
		{"badqueue.json", `{"vhosts": [{"name": "/"}], "queues": [{"name": "q", "vhost": "/", "durable": true, "arguments": {"x-max-length": "many"}}]}`, "queue 'q'"},
		{"novhost.json", `{"queues": [{"name": "q", "vhost": "nowhere", "durable": true}]}`, "vhost 'nowhere' does not exist"},
		{"badhash.json", `{"users": [{"name": "u", "password_hash": "not base64!", "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []}]}`, "user 'u'"},
	} {
		path := filepath.Join(dir, c.name)
		if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		conf := writeConf(t, "load_definitions = "+path+"\n")
		_, errOut, code := runBinary(t, nil, "-config", conf, "-amqp-port", "0", "-http-port", "0", "-prometheus-port", "0", "-data-dir", filepath.Join(dir, "data-"+c.name))
		if code != 2 {
			t.Errorf("%s: exit %d, want 2; stderr %s", c.name, code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		last := lines[len(lines)-1]
		if !strings.HasPrefix(last, "warren: load_definitions "+path+": ") || !strings.Contains(last, c.want) {
			t.Errorf("%s: last line %q, want one naming the file and %q", c.name, last, c.want)
		}
		if strings.Contains(errOut, "warren started") {
			t.Errorf("%s: warren started anyway", c.name)
		}
	}
}
