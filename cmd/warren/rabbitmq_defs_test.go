//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// rabbitMgmt is the management API of the RabbitMQ at WARREN_IT_URL
// (WARREN_MGMT_URL, else port 15672 on its host), as guest.
func rabbitMgmt(t *testing.T) (amqpHost, base string) {
	t.Helper()
	it := os.Getenv("WARREN_IT_URL")
	if it == "" {
		t.Skip("WARREN_IT_URL unset: no RabbitMQ to compare with")
	}
	u, err := url.Parse(it)
	if err != nil {
		t.Fatal(err)
	}
	base = os.Getenv("WARREN_MGMT_URL")
	if base == "" {
		base = "http://" + net.JoinHostPort(u.Hostname(), "15672")
	}
	return u.Host, strings.TrimSuffix(base, "/")
}

func rabbitMgmtDo(t *testing.T, method, u string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("guest", "guest")
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

// testdata/definitions.json, the export TestLoadDefinitionsAtBoot starts
// Warren with, is one RabbitMQ 3.10.8 itself imports: its users log in
// with the passwords their hashes were made from (SHA-256 and SHA-512)
// and its topology routes. The shared RabbitMQ gets the file without its
// global_parameters (internal_cluster_id is the node's own), and its
// vhosts and users are deleted after.
func TestRabbitMQImportsExampleDefinitions(t *testing.T) {
	host, base := rabbitMgmt(t)
	data, err := os.ReadFile("testdata/definitions.json")
	if err != nil {
		t.Fatal(err)
	}
	var defs map[string]any
	if err := json.Unmarshal(data, &defs); err != nil {
		t.Fatal(err)
	}
	delete(defs, "global_parameters")
	body, err := json.Marshal(defs)
	if err != nil {
		t.Fatal(err)
	}
	vhosts, users := []string{"orders", "telemetry"}, []string{"orders-app", "ops", "metrics"}
	for _, v := range vhosts {
		if code := rabbitMgmtDo(t, "GET", base+"/api/vhosts/"+v, nil); code != http.StatusNotFound {
			t.Skipf("vhost %s exists on the shared RabbitMQ (GET: %d): not importing over it", v, code)
		}
	}
	for _, u := range users {
		if code := rabbitMgmtDo(t, "GET", base+"/api/users/"+u, nil); code != http.StatusNotFound {
			t.Skipf("user %s exists on the shared RabbitMQ (GET: %d): not importing over it", u, code)
		}
	}
	t.Cleanup(func() {
		for _, v := range vhosts {
			rabbitMgmtDo(t, "DELETE", base+"/api/vhosts/"+v, nil)
		}
		for _, u := range users {
			rabbitMgmtDo(t, "DELETE", base+"/api/users/"+u, nil)
		}
	})
	if code := rabbitMgmtDo(t, "POST", base+"/api/definitions", body); code/100 != 2 {
		t.Fatalf("RabbitMQ refuses testdata/definitions.json: POST /api/definitions %d", code)
	}
	for _, c := range []struct{ user, pass, vhost string }{
		{"orders-app", "orders-secret", "orders"}, {"ops", "ops-secret", "telemetry"}, {"metrics", "metrics-secret", "telemetry"},
	} {
		conn, err := amqp.Dial("amqp://" + c.user + ":" + c.pass + "@" + host + "/" + c.vhost)
		if err != nil {
			t.Errorf("%s cannot log in to RabbitMQ's %s: %v", c.user, c.vhost, err)
			continue
		}
		if c.user == "orders-app" {
			ch, err := conn.Channel()
			if err != nil {
				t.Fatal(err)
			}
			if err := ch.Publish("orders.in", "order.created", false, false, amqp.Publishing{Body: []byte("order-1")}); err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{"orders.new", "orders.audit"} {
				waitGet(t, ch, q, "order-1")
			}
		}
		_ = conn.Close()
	}
}
