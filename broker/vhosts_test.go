package broker

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func grantAll(t *testing.T, u *Users, user, vhost string) {
	t.Helper()
	if err := u.SetPermissions(Permission{User: user, VHost: vhost, Configure: ".*", Write: ".*", Read: ".*"}); err != nil {
		t.Fatal(err)
	}
}

// Deleting a vhost removes its queues, exchanges and messages, on disk
// too, and the permissions in it; the same name then starts empty.
func TestDeleteVHostRemovesData(t *testing.T) {
	b := openTestBroker(t)
	if err := b.AddVHost("tenant"); err != nil {
		t.Fatal(err)
	}
	grantAll(t, b.Users(), "guest", "tenant")
	v, _ := b.VHost("tenant")
	if err := v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "orders", Type: "direct", Durable: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "q", Durable: true}); err != nil {
		t.Fatal(err)
	}
	publishN(t, v, "q", 10)
	if _, err := os.Stat(filepath.Join(v.dir, "queues")); err != nil {
		t.Fatalf("queue data not on disk: %v", err)
	}
	if err := b.DeleteVHost("tenant"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(v.dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("vhost dir left: %v", err)
	}
	if _, ok := b.VHost("tenant"); ok || slices.Contains(b.VHosts(), "tenant") {
		t.Fatal("vhost still listed")
	}
	if b.Users().CanAccessVHost("guest", "tenant") {
		t.Fatal("permission in the deleted vhost left")
	}
	if err := b.DeleteVHost("tenant"); !errors.Is(err, ErrNoSuchVHost) {
		t.Fatalf("second delete: %v", err)
	}
	if err := b.AddVHost("tenant"); err != nil {
		t.Fatal(err)
	}
	v2, _ := b.VHost("tenant")
	if _, ok := v2.Exchange("orders"); ok {
		t.Fatal("exchange came back with the vhost's name")
	}
	if _, err := v2.QueueDeclare(nil, QueueDeclareOptions{Name: "q", Passive: true}); err == nil {
		t.Fatal("queue came back with the vhost's name")
	}
}

// Vhosts, users (with their hashes and tags), permissions and topic
// permissions survive a restart; the seed users do not override them.
func TestAccessSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	b, err := Open(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	u := b.Users()
	for _, err := range []error{
		b.AddVHost("tenant a"),
		u.Add(User{Name: "app", Password: "pw", Tags: []string{TagManagement, TagImpersonator}}),
		u.SetPermissions(Permission{User: "app", VHost: "tenant a", Configure: "^c", Write: "^w", Read: "^r"}),
		u.SetTopicPermissions(TopicPermission{User: "app", VHost: "tenant a", Exchange: "amq.topic", Write: "^{username}", Read: ".*"}),
		u.Delete("guest"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	v, _ := b.VHost("tenant a")
	grantAll(t, u, "app", "tenant a")
	app := &Principal{User: "app", VHost: "tenant a"}
	if _, err := v.QueueDeclare(app, QueueDeclareOptions{Name: "kept", Durable: true}); err != nil {
		t.Fatal(err)
	}
	publishAs(t, v, app, "kept")
	wantPerms, wantTopics := u.Permissions(), u.TopicPermissions()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b, err = Open(Config{DataDir: dir}) // DefaultUsers: guest would be back on a fresh dir
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	u = b.Users()
	if got := b.VHosts(); !slices.Equal(got, []string{"/", "tenant a"}) {
		t.Fatalf("vhosts %q", got)
	}
	if _, ok := u.Get("guest"); ok {
		t.Fatal("deleted guest is back")
	}
	p, err := u.Authenticate("app", "pw", false)
	if err != nil || !p.HasTag(TagImpersonator) || !p.HasTag(TagManagement) {
		t.Fatalf("app after restart: %+v %v", p, err)
	}
	if got := u.Permissions(); !slices.Equal(got, wantPerms) {
		t.Fatalf("permissions %+v, want %+v", got, wantPerms)
	}
	if got := u.TopicPermissions(); !slices.Equal(got, wantTopics) {
		t.Fatalf("topic permissions %+v, want %+v", got, wantTopics)
	}
	v, _ = b.VHost("tenant a")
	q, err := v.Queue(p, "kept", 0)
	if err != nil || q.Ready() != 1 {
		t.Fatalf("queue in tenant vhost after restart: %v %v", q, err)
	}
}

func publishAs(t *testing.T, v *VHost, p *Principal, queue string) {
	t.Helper()
	m := Message{RoutingKey: []byte(queue), Props: []byte{0, 0}, Body: []byte("x"), Persistent: true}
	res, _, err := v.Publish(p, &m, &PublishCache{}, nil)
	if err != nil || res.Routed != 1 {
		t.Fatalf("publish: %v %v", res, err)
	}
	for deadline := time.Now().Add(time.Minute); v.b.Watermark().Committed() < res.CommitGen; {
		if time.Now().After(deadline) {
			t.Fatalf("commit %d not reached in a minute", res.CommitGen)
		}
		time.Sleep(time.Millisecond)
	}
}

// A RabbitMQ definitions export's vhosts, users (tags as a list or, from
// RabbitMQ before 3.9, a string) and permissions import, twice alike.
func TestImportDefinitions(t *testing.T) {
	b := openTestBroker(t)
	data := []byte(`{
  "rabbit_version": "3.10.8",
  "users": [
    {"name": "tn9u", "password_hash": "6hr1bDrOSKocLS8y/hdx3fj55SlXLBYS4ss5aT5DlH8srBvD", "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": [], "limits": {}},
    {"name": "old", "password_hash": "", "tags": "administrator,monitoring"}
  ],
  "vhosts": [{"name": "tn9v", "limits": [], "metadata": {"description": "", "tags": []}}],
  "permissions": [{"user": "tn9u", "vhost": "tn9v", "configure": ".*", "write": ".*", "read": ".*"}],
  "topic_permissions": [{"user": "tn9u", "vhost": "tn9v", "exchange": "amq.topic", "write": "^{username}\\.", "read": "^r\\."}],
  "queues": [], "exchanges": [], "bindings": [], "policies": [], "parameters": [], "global_parameters": []
}`)
	for range 2 {
		if err := b.ImportDefinitions(data); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Users().Authenticate("tn9u", "pw", false); err != nil {
		t.Fatal(err)
	}
	if info, _ := b.Users().Get("old"); !slices.Equal(info.Tags, []string{TagAdministrator, TagMonitoring}) {
		t.Fatalf("old-style tags: %q", info.Tags)
	}
	if !b.Users().CanAccessVHost("tn9u", "tn9v") || len(b.Users().TopicPermissions()) != 1 {
		t.Fatal("permissions not imported")
	}
}

// A deletion cut short after its commit point (out of definitions.json,
// directory still there) does not bring the old queues back with a new
// vhost of the same name.
func TestAddVHostIgnoresInterruptedDeletion(t *testing.T) {
	dir := t.TempDir()
	b, err := Open(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.AddVHost("t"))
	v, _ := b.VHost("t")
	_, err = v.QueueDeclare(nil, QueueDeclareOptions{Name: "old", Durable: true})
	must(err)
	b.mu.Lock()
	delete(b.vhosts, "t")
	b.mu.Unlock()
	must(b.saveAccess()) // the commit point of DeleteVHost, then a crash
	v.close()
	must(b.Close())

	b, err = Open(Config{DataDir: dir})
	must(err)
	defer b.Close()
	if slices.Contains(b.VHosts(), "t") {
		t.Fatal("deleted vhost opened")
	}
	must(b.AddVHost("t"))
	v, _ = b.VHost("t")
	if _, err := v.QueueDeclare(nil, QueueDeclareOptions{Name: "old", Passive: true}); err == nil {
		t.Fatal("queue of the deleted vhost is back")
	}
}

// An operation that reaches a vhost after its deletion (its connection's
// close still on the way) creates nothing.
func TestDeletedVHostRefusesDeclares(t *testing.T) {
	b := openTestBroker(t)
	if err := b.AddVHost("t"); err != nil {
		t.Fatal(err)
	}
	v, _ := b.VHost("t")
	if err := b.DeleteVHost("t"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.QueueDeclare(nil, QueueDeclareOptions{Name: "late", Durable: true}); err == nil {
		t.Fatal("queue declared in a deleted vhost")
	}
	if err := v.ExchangeDeclare(nil, ExchangeDeclareOptions{Name: "late", Type: "fanout", Durable: true}); err == nil {
		t.Fatal("exchange declared in a deleted vhost")
	}
	if _, err := os.Stat(v.dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("deleted vhost's directory came back: %v", err)
	}
}
