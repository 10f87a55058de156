package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/mgmt"
	"github.com/warrenmq/warren/netio"
)

// warren is a running Warren: broker, AMQP listener and management API,
// on ports the kernel picks.
type warren struct {
	url  string // management API
	amqp string // AMQP URL
	b    *broker.Broker
}

func startWarren(t *testing.T) *warren {
	t.Helper()
	b, err := broker.Open(broker.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv := netio.NewServer(netio.Config{Addr: "127.0.0.1:0"}, b)
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run() }()
	select {
	case <-srv.Ready():
	case err := <-runErr:
		b.Close()
		t.Fatal(err)
	}
	amqpAddr, err := srv.Addr()
	if err != nil {
		t.Fatal(err)
	}
	s, err := mgmt.ListenConfig(mgmt.Config{Addr: "127.0.0.1:0", AMQP: amqpAddr, Version: netio.Version}, b)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		_ = srv.Stop(ctx)
		b.Close()
	})
	return &warren{url: "http://" + s.Addr().String(), amqp: "amqp://guest:guest@" + amqpAddr.String() + "/", b: b}
}

type result struct {
	out, err string
	code     int
}

// ctl runs warrenctl against w with args (and stdin).
func (w *warren) ctl(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"--url", w.url}, args...), strings.NewReader(stdin), &out, &errOut)
	return result{out.String(), errOut.String(), code}
}

// must runs args and fails the test unless the exit code is want.
func (w *warren) must(t *testing.T, want int, args ...string) result {
	t.Helper()
	r := w.ctl(t, "", args...)
	if r.code != want {
		t.Fatalf("warrenctl %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, want, r.out, r.err)
	}
	return r
}

// eventually runs args until its output holds want (the management API
// may trail a client's actions by a moment).
func (w *warren) eventually(t *testing.T, want string, args ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := w.ctl(t, "", args...)
		if r.code == 0 && strings.Contains(r.out, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("warrenctl %s: output never held %q; last: exit %d\n%s%s", strings.Join(args, " "), want, r.code, r.out, r.err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestQueuesExchangesBindingsMessages(t *testing.T) {
	w := startWarren(t)
	w.must(t, 0, "declare", "queue", "q1", "--durable")
	w.must(t, 0, "declare", "exchange", "x1", "--type", "topic", "--durable")
	w.must(t, 0, "bind", "x1", "q1", "--routing-key", "a.*")
	if r := w.must(t, 0, "list", "bindings"); !strings.Contains(r.out, "x1\texchange\tq1\tqueue\ta.*\t{}\n") ||
		!strings.HasPrefix(r.out, "source_name\tsource_kind\tdestination_name\tdestination_kind\trouting_key\targuments\n") {
		t.Errorf("list bindings:\n%s", r.out)
	}
	if r := w.must(t, 0, "list_exchanges"); !strings.Contains(r.out, "x1\ttopic\n") || !strings.HasPrefix(r.out, "name\ttype\n") {
		t.Errorf("list_exchanges:\n%s", r.out)
	}
	if r := w.must(t, 0, "publish", "--exchange", "x1", "--routing-key", "a.b", "--payload", "hello"); r.out != "message published\n" {
		t.Errorf("publish: %q", r.out)
	}
	r := w.ctl(t, "from stdin", "publish", "--exchange", "x1", "--routing-key", "a.c")
	if r.code != 0 {
		t.Fatalf("publish from stdin: %d %s", r.code, r.err)
	}
	if r := w.must(t, exitNegative, "publish", "--exchange", "x1", "--routing-key", "zz", "--payload", "x"); !strings.Contains(r.err, "not routed") {
		t.Errorf("unroutable publish: %q", r.err)
	}
	w.eventually(t, "q1\t2\t2\t15\n", "list", "queues", "--columns", "name,messages,messages_ready,message_bytes")
	if r := w.must(t, 0, "list", "queues"); r.out != "name\tmessages\nq1\t2\n" {
		t.Errorf("list queues: %q", r.out)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(w.must(t, 0, "list", "queues", "--json").out), &rows); err != nil || len(rows) != 1 || rows[0]["name"] != "q1" || rows[0]["messages"] != 2.0 {
		t.Errorf("list queues --json: %v %v", rows, err)
	}
	var msgs []map[string]any
	if err := json.Unmarshal([]byte(w.must(t, 0, "get", "q1", "--json").out), &msgs); err != nil || len(msgs) != 1 || msgs[0]["payload"] != "hello" {
		t.Fatalf("get --json: %v %v", msgs, err)
	}
	r = w.must(t, 0, "get", "q1", "--count", "2", "--ackmode", "ack_requeue_false")
	if !strings.Contains(r.out, "a.b\tx1\t1\ttrue\thello\t5\tstring\t") || !strings.Contains(r.out, "a.c\tx1\t0\tfalse\tfrom stdin\t10\tstring\t") {
		t.Errorf("get 2:\n%s", r.out)
	}
	w.eventually(t, "q1\t0\n", "list", "queues")
	w.must(t, 0, "publish", "--routing-key", "q1", "--payload", "direct")
	w.eventually(t, "q1\t1\n", "list", "queues")
	w.must(t, 0, "purge", "queue", "q1")
	w.eventually(t, "q1\t0\n", "list", "queues")

	w.must(t, 0, "unbind", "x1", "q1", "--routing-key", "a.*")
	if r := w.must(t, exitNotFound, "unbind", "x1", "q1", "--routing-key", "a.*"); !strings.Contains(r.err, "not found: binding") {
		t.Errorf("unbind twice: %q", r.err)
	}
	w.must(t, exitNotFound, "delete", "queue", "nosuch")
	w.must(t, exitRefused, "declare", "queue", "q1") // not durable now: inequivalent
	w.must(t, 0, "delete", "exchange", "x1")
	w.must(t, 0, "delete", "queue", "q1", "--if-empty")
	if r := w.must(t, 0, "list", "queues"); r.out != "name\tmessages\n" {
		t.Errorf("queues left: %q", r.out)
	}
}

func TestConnectionsChannelsConsumers(t *testing.T) {
	w := startWarren(t)
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName("ctl-test")
	conn, err := amqp.DialConfig(w.amqp, amqp.Config{Properties: props})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare("work", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Consume("work", "ctag-1", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	w.eventually(t, "guest\t127.0.0.1\t", "list", "connections")
	w.eventually(t, "work\t", "list", "consumers")
	if r := w.must(t, 0, "list", "consumers"); !strings.Contains(r.out, "\tctag-1\ttrue\t") {
		t.Errorf("list consumers:\n%s", r.out)
	}
	if r := w.must(t, 0, "list", "channels"); !strings.Contains(r.out, "\tguest\t1\t") {
		t.Errorf("list channels:\n%s", r.out)
	}
	// The channel's state, as rabbitmqctl list_channels shows it.
	if err := ch.Qos(9, 0, false); err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	w.eventually(t, "1\t9\t0\ttrue\tfalse\t0\t0\n", "list", "channels", "--columns", "number,prefetch_count,global_prefetch_count,confirm,transactional,messages_uncommitted,acks_uncommitted")
	r := w.must(t, 0, "list", "connections", "--columns", "name,user,vhost", "--json")
	var conns []map[string]any
	if err := json.Unmarshal([]byte(r.out), &conns); err != nil || len(conns) != 1 {
		t.Fatalf("connections --json: %v %s", err, r.out)
	}
	name, _ := conns[0]["name"].(string)
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	w.must(t, 0, "close", "connection", name, "--reason", "maintenance")
	select {
	case e := <-closed:
		if e == nil || !strings.Contains(e.Reason, "maintenance") {
			t.Errorf("close reason: %v", e)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the connection was not closed")
	}
	deadline := time.Now().Add(30 * time.Second)
	for w.must(t, 0, "list", "connections").out != "user\tpeer_host\tpeer_port\tstate\n" {
		if time.Now().After(deadline) {
			t.Fatal("the closed connection is still listed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.must(t, exitNotFound, "close_connection", name)
}

func TestUsersVHostsPermissionsPolicies(t *testing.T) {
	w := startWarren(t)
	w.must(t, 0, "add", "user", "ops", "pw1", "--tags", "management")
	w.must(t, exitRefused, "add_user", "ops", "again")
	if r := w.must(t, 0, "list", "users"); !strings.Contains(r.out, "ops\t[management]\n") || !strings.Contains(r.out, "guest\t[administrator]\n") {
		t.Errorf("list users:\n%s", r.out)
	}
	w.must(t, 0, "add_vhost", "v1")
	if r := w.must(t, 0, "list", "vhosts"); !strings.Contains(r.out, "\nv1\n") {
		t.Errorf("list vhosts:\n%s", r.out)
	}
	w.must(t, 0, "set_permissions", "--vhost", "v1", "ops", "^ops-", ".*", ".*")
	if r := w.must(t, 0, "list", "permissions", "--vhost", "v1"); !strings.Contains(r.out, "ops\t^ops-\t.*\t.*\n") {
		t.Errorf("list permissions:\n%s", r.out)
	}
	// ops sees v1's queues, not /'s (a management user sees its vhosts).
	w.must(t, 0, "-u", "ops", "-p", "pw1", "list", "queues", "--vhost", "v1")
	if r := w.must(t, exitAuth, "-u", "ops", "-p", "pw1", "list", "queues"); !strings.Contains(r.err, "not authorised") {
		t.Errorf("other vhost: %q", r.err)
	}
	if r := w.must(t, exitAuth, "-u", "ops", "-p", "wrong", "list", "queues"); !strings.Contains(r.err, "authentication failed") {
		t.Errorf("wrong password: %q", r.err)
	}
	w.must(t, 0, "change_password", "ops", "pw2")
	w.must(t, exitAuth, "-u", "ops", "-p", "pw1", "list", "vhosts")
	w.must(t, 0, "set_user_tags", "ops", "monitoring", "policymaker")
	if r := w.must(t, 0, "list", "users"); !strings.Contains(r.out, "ops\t[monitoring, policymaker]\n") {
		t.Errorf("tags:\n%s", r.out)
	}
	w.must(t, 0, "-u", "ops", "-p", "pw2", "list", "queues") // the tags kept the password
	w.must(t, 0, "set_user_tags", "ops")
	if r := w.must(t, exitAuth, "-u", "ops", "-p", "pw2", "list", "vhosts"); !strings.Contains(r.err, "Not management user") {
		t.Errorf("untagged: %q", r.err)
	}

	w.must(t, 0, "set", "policy", "--vhost", "v1", "cap", "^q", `{"max-length": 10}`, "--apply-to", "queues", "--priority", "3")
	if r := w.must(t, 0, "list", "policies", "--vhost", "v1"); !strings.Contains(r.out, "v1\tcap\t^q\tqueues\t{\"max-length\":10}\t3\n") {
		t.Errorf("list policies:\n%s", r.out)
	}
	w.must(t, exitUsage, "set", "policy", "--vhost", "v1", "bad", "^q", "not json")
	w.must(t, exitRefused, "set", "policy", "--vhost", "v1", "bad", "^q", `{"no-such-key": 1}`)
	w.must(t, 0, "clear", "policy", "--vhost", "v1", "cap")
	w.must(t, exitNotFound, "clear", "policy", "--vhost", "v1", "cap")

	w.must(t, 0, "set", "vhost_limits", "--vhost", "v1", `{"max-queues": 1}`)
	w.must(t, 0, "declare", "queue", "--vhost", "v1", "first")
	w.must(t, exitRefused, "declare", "queue", "--vhost", "v1", "second")
	if r := w.must(t, 0, "list", "vhost_limits"); !strings.Contains(r.out, "v1\t{\"max-queues\":1}\n") {
		t.Errorf("list vhost_limits:\n%s", r.out)
	}
	w.must(t, 0, "clear", "vhost_limits", "--vhost", "v1")
	if r := w.must(t, 0, "list", "vhost_limits", "--vhost", "v1"); r.out != "vhost\tvalue\n" {
		t.Errorf("vhost limits left: %q", r.out)
	}
	w.must(t, 0, "set_user_limits", "ops", `{"max-connections": 2, "max-channels": 5}`)
	if r := w.must(t, 0, "list", "user_limits"); !strings.Contains(r.out, "ops\t{\"max-channels\":5,\"max-connections\":2}\n") {
		t.Errorf("list user_limits:\n%s", r.out)
	}
	w.must(t, exitRefused, "set_user_limits", "ops", `{"max-queues": 2}`)
	w.must(t, 0, "clear_user_limits", "ops", "max-channels")
	w.must(t, 0, "clear_user_limits", "ops")
	if r := w.must(t, 0, "list", "user_limits"); r.out != "user\tvalue\n" {
		t.Errorf("user limits left: %q", r.out)
	}
	w.must(t, 0, "declare", "queue", "--vhost", "v1", "second")

	w.must(t, 0, "clear_permissions", "--vhost", "v1", "ops")
	w.must(t, exitNotFound, "clear_permissions", "--vhost", "v1", "ops")
	w.must(t, 0, "delete_user", "ops")
	w.must(t, exitNotFound, "delete_user", "ops")
	w.must(t, 0, "delete_vhost", "v1")
	w.must(t, exitNotFound, "list", "queues", "--vhost", "v1")
}

func TestExportImportStatusHealth(t *testing.T) {
	w := startWarren(t)
	w.must(t, 0, "declare", "queue", "kept", "--durable", "--arguments", `{"x-max-length": 5}`)
	file := filepath.Join(t.TempDir(), "defs.json")
	w.must(t, 0, "export", file)
	data, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(data), `"kept"`) {
		t.Fatalf("export: %v %s", err, data)
	}
	w.must(t, 0, "delete", "queue", "kept")
	w.must(t, 0, "import", file)
	if r := w.must(t, 0, "list", "queues", "--columns", "name,durable,arguments"); !strings.Contains(r.out, "kept\ttrue\t{\"x-max-length\":5}\n") {
		t.Errorf("after import:\n%s", r.out)
	}
	w.must(t, 0, "delete", "queue", "kept")
	if r := w.ctl(t, string(data), "import", "-", "--vhost", "/"); r.code != 0 {
		t.Errorf("per-vhost import from stdin: %d %s", r.code, r.err)
	}
	w.must(t, exitUsage, "import", filepath.Join(t.TempDir(), "missing.json"))
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"queues":[{"name":"q","vhost":"nowhere"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := w.must(t, exitRefused, "import", bad); !strings.Contains(r.err, "nowhere") {
		t.Errorf("bad import: %q", r.err)
	}

	r := w.must(t, 0, "status")
	for _, want := range []string{"Node: warren@localhost\n", "Product: Warren ", "Listener: amqp on ", "Alarms: none\n", "Totals: 0 connections"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("status lacks %q:\n%s", want, r.out)
		}
	}
	r = w.must(t, 0, "health")
	for _, want := range []string{"alarms\tok\t\n", "virtual-hosts\tok\t\n", "port-listener:"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("health lacks %q:\n%s", want, r.out)
		}
	}
	w.must(t, 0, "health", "aliveness")
	if r := w.must(t, exitNegative, "health", "port-listener:1"); !strings.Contains(r.out, "port-listener:1\tfailed\tNo active listener") {
		t.Errorf("failing check:\n%s%s", r.out, r.err)
	}
	w.must(t, exitUsage, "health", "frob")
}

func TestErrorsAndExitCodes(t *testing.T) {
	w := startWarren(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	var out, errOut bytes.Buffer
	if code := run([]string{"--url", down, "list", "queues"}, nil, &out, &errOut); code != exitUnreachable || !strings.Contains(errOut.String(), "connection refused") {
		t.Errorf("broker down: %d %q", code, errOut.String())
	}
	if code := run([]string{"--url", "ftp://x", "list", "queues"}, nil, &out, &errOut); code != exitUsage {
		t.Errorf("bad url: %d", code)
	}
	for _, args := range [][]string{{"frob"}, {"list", "frobs"}, {"declare", "queue"}, {"list", "queues", "--columns", "nope"}, {"--no-such-flag"}, {"declare", "exchange", "x"}} {
		if r := w.ctl(t, "", args...); r.code != exitUsage || r.err == "" {
			t.Errorf("%v: %d %q", args, r.code, r.err)
		}
	}
	if r := w.ctl(t, "", "help"); r.code != 0 || !strings.Contains(r.out, "Exit codes:") {
		t.Errorf("help: %d", r.code)
	}
	if r := w.must(t, exitNotFound, "get", "nosuch"); !strings.Contains(r.err, "queue 'nosuch' in vhost '/'") {
		t.Errorf("get of a missing queue: %q", r.err)
	}
	if r := w.must(t, exitRefused, "declare", "queue", "q", "--arguments", `{"x-max-length": "ten"}`); !strings.Contains(r.err, "refused") {
		t.Errorf("bad argument: %q", r.err)
	}
}

// A memory alarm fails health (exit 7) and shows in status; clearing it
// passes again.
func TestHealthAndStatusUnderAnAlarm(t *testing.T) {
	w := startWarren(t)
	w.must(t, 0, "health", "alarms")
	w.b.Alarms().SetMemoryLimit(1)
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := w.ctl(t, "", "health")
		if r.code == exitNegative && strings.Contains(r.out, "alarms\tfailed\tThere are alarms in effect in the cluster\n") &&
			strings.Contains(r.out, "local-alarms\tfailed\tThere are alarms in effect on the node\n") && strings.Contains(r.out, "virtual-hosts\tok\t\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health under a memory alarm: exit %d\n%s%s", r.code, r.out, r.err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := w.must(t, 0, "status"); !strings.Contains(r.out, "Alarms: memory\n") || !strings.Contains(r.out, "alarm at 1 B\n") {
		t.Errorf("status under a memory alarm:\n%s", r.out)
	}
	w.b.Alarms().SetMemoryLimit(1 << 50)
	w.eventually(t, "alarms\tok\t\n", "health", "alarms")
	if r := w.must(t, 0, "status"); !strings.Contains(r.out, "Alarms: none\n") {
		t.Errorf("status after the alarm:\n%s", r.out)
	}
}
