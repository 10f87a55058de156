package netio_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/broker"
)

// Per-vhost and per-user limits, with the texts RabbitMQ 3.10 sends
// (checked with rabbitmqctl set_vhost_limits / set_user_limits).

var allPerms = broker.Permission{Configure: ".*", Write: ".*", Read: ".*"}

func (tn tenant) setVHostLimits(t *testing.T, l broker.Limits) {
	t.Helper()
	if external {
		js, _ := json.Marshal(l)
		ctl(t, "set_vhost_limits", "-p", tn.vhost, string(js))
		return
	}
	must(t, shared.b.SetVHostLimits(tn.vhost, l))
}

func (tn tenant) setUserLimits(t *testing.T, l broker.Limits) {
	t.Helper()
	if external {
		js, _ := json.Marshal(l)
		ctl(t, "set_user_limits", tn.user, string(js))
		return
	}
	must(t, shared.b.SetUserLimits(tn.user, l))
}

// dialEventually dials until the broker lets the connection in: RabbitMQ
// forgets a closed connection asynchronously.
func (tn tenant) dialEventually(t *testing.T) *amqp.Connection {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		c, err := dialURL(t, tenantURL(tn.user, tn.pass, tn.vhost), amqp.Config{})
		if err == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("dial after a slot was freed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func refusedOpen(t *testing.T, tn tenant, text string) {
	t.Helper()
	_, err := dialURL(t, tenantURL(tn.user, tn.pass, tn.vhost), amqp.Config{})
	if want := `Exception (530) Reason: "NOT_ALLOWED - ` + text + `"`; err == nil || err.Error() != want {
		t.Fatalf("open over the limit: %v, want %s", err, want)
	}
}

func TestVHostMaxConnections(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, allPerms)
	tn.setVHostLimits(t, broker.Limits{"max-connections": 2})
	c1, c2 := tn.dial(t), tn.dial(t)
	refusedOpen(t, tn, "access to vhost '"+tn.vhost+"' refused for user '"+tn.user+"': connection limit (2) is reached")
	connUsable(t, c2)
	must(t, c1.Close())
	c3 := tn.dialEventually(t)
	refusedOpen(t, tn, "access to vhost '"+tn.vhost+"' refused for user '"+tn.user+"': connection limit (2) is reached")
	tn.setVHostLimits(t, broker.Limits{"max-connections": -1})
	c4 := tn.dialEventually(t)
	for _, c := range []*amqp.Connection{c2, c3, c4} {
		_ = c.Close()
	}
}

func TestUserMaxConnections(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, allPerms)
	tn.setUserLimits(t, broker.Limits{"max-connections": 1})
	c1 := tn.dial(t)
	refusedOpen(t, tn, "connection refused for user '"+tn.user+"': user connection limit (1) is reached")
	// guest is not limited in the same vhost.
	g := tn.dialGuest(t)
	must(t, c1.Close())
	c2 := tn.dialEventually(t)
	_ = c2.Close()
	_ = g.Close()
}

// max-channels counts the user's channels over all its connections; the
// one over it closes the connection with 530, as RabbitMQ.
func TestUserMaxChannels(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, allPerms)
	tn.setUserLimits(t, broker.Limits{"max-channels": 2})
	c1, c2 := tn.dial(t), tn.dial(t)
	defer c1.Close()
	ch1 := channel(t, c1)
	channel(t, c2)
	closes := c2.NotifyClose(make(chan *amqp.Error, 1))
	if _, err := c2.Channel(); err == nil {
		t.Fatal("a third channel opened over max-channels 2")
	}
	e := waitClosed(t, closes, amqp.NotAllowed, "connection over max-channels")
	if want := "NOT_ALLOWED - number of channels opened for user '" + tn.user + "' has reached the maximum allowed user limit of (2)"; e.Reason != want {
		t.Fatalf("close reason %q, want %q", e.Reason, want)
	}
	// c2's channel went with c2; closing ch1 frees one more.
	c3, _ := tn.channelEventually(t)
	must(t, ch1.Close())
	c4, _ := tn.channelEventually(t)
	_, _ = c3.Close(), c4.Close()
}

// channelEventually opens a channel on a new connection once the user has
// a channel slot free: RabbitMQ forgets closed channels asynchronously, and
// a refusal closes the connection.
func (tn tenant) channelEventually(t *testing.T) (*amqp.Connection, *amqp.Channel) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		c := tn.dial(t)
		ch, err := c.Channel()
		if err == nil {
			return c, ch
		}
		_ = c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("open a channel after one was freed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestVHostMaxQueues(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, allPerms)
	tn.setVHostLimits(t, broker.Limits{"max-queues": 1})
	c := tn.dial(t)
	defer c.Close()
	ch := channel(t, c)
	q1, q2 := name(t, "q1"), name(t, "q2")
	if _, err := ch.QueueDeclare(q1, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(q1, false, false, false, false, nil); err != nil {
		t.Fatalf("redeclaring a queue at the limit: %v", err)
	}
	refusedWith(t, c, "declare over max-queues", amqp.PreconditionFailed,
		"PRECONDITION_FAILED - cannot declare queue '"+q2+"': queue limit in vhost '"+tn.vhost+"' (1) is reached",
		func(ch *amqp.Channel) error {
			_, err := ch.QueueDeclare(q2, false, false, false, false, nil)
			return err
		})
	if _, err := ch.QueueDelete(q1, false, false, false); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(q2, false, false, false, false, nil); err != nil {
		t.Fatalf("declare after a queue was deleted: %v", err)
	}
}

// Limits are in definitions.json in RabbitMQ's export shape and hold
// after a restart.
func TestLimitsSurviveRestart(t *testing.T) {
	needLocal(t)
	dir := t.TempDir()
	in := startTestInstance(t, dir)
	must(t, in.b.AddVHost("lim"))
	must(t, in.b.Users().Add(broker.User{Name: "lu", Password: "pw"}))
	must(t, in.b.Users().SetPermissions(broker.Permission{User: "lu", VHost: "lim", Configure: ".*", Write: ".*", Read: ".*"}))
	vl := broker.Limits{"max-connections": 3, "max-queues": 0}
	ul := broker.Limits{"max-channels": 5, "max-connections": -1}
	must(t, in.b.SetVHostLimits("lim", vl))
	must(t, in.b.SetUserLimits("lu", ul))
	must(t, in.stop())

	data, err := os.ReadFile(filepath.Join(dir, "definitions.json"))
	must(t, err)
	var d struct {
		Users []struct {
			Name   string
			Limits map[string]int
		}
		Parameters []struct {
			VHost, Component, Name string
			Value                  map[string]int
		}
	}
	must(t, json.Unmarshal(data, &d))
	var sawUser, sawVHost bool
	for _, u := range d.Users {
		sawUser = sawUser || u.Name == "lu" && maps.Equal(u.Limits, ul)
	}
	for _, p := range d.Parameters {
		sawVHost = sawVHost || p.VHost == "lim" && p.Component == "vhost-limits" && p.Name == "limits" && maps.Equal(p.Value, vl)
	}
	if !sawUser || !sawVHost {
		t.Fatalf("definitions.json lacks the limits in RabbitMQ's shape:\n%s", data)
	}

	in2 := startTestInstance(t, dir)
	if got, _ := in2.b.VHostLimits("lim"); !maps.Equal(got, vl) {
		t.Fatalf("vhost limits after restart %v, want %v", got, vl)
	}
	if got, _ := in2.b.UserLimits("lu"); !maps.Equal(got, ul) {
		t.Fatalf("user limits after restart %v, want %v", got, ul)
	}
	u := strings.Replace(in2.url, "guest:guest@", "lu:pw@", 1) + "lim"
	c, err := dialURL(t, u, amqp.Config{})
	must(t, err)
	defer c.Close()
	refusedWith(t, c, "declare over max-queues 0", amqp.PreconditionFailed,
		"PRECONDITION_FAILED - cannot declare queue 'x': queue limit in vhost 'lim' (0) is reached",
		func(ch *amqp.Channel) error {
			_, err := ch.QueueDeclare("x", false, false, false, false, nil)
			return err
		})
}
