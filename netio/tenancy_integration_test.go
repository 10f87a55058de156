package netio_test

import (
	"net/url"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/broker"
)

// tenant is a vhost and a user made for one test, on the in-process Warren
// through the broker's API, or on the external broker with rabbitmqctl
// (WARREN_IT_URL mode, which needs rabbitmqctl on the PATH). guest gets
// every permission in the vhost, to set up what the user may not.
type tenant struct {
	vhost, user, pass string
}

var tenantN atomic.Int64

func newTenant(t *testing.T, perm broker.Permission, tags ...string) tenant {
	t.Helper()
	id := name(t, itoa(int(tenantN.Add(1))))
	tn := tenant{vhost: "vh-" + id, user: "u-" + id, pass: "pw-" + id}
	perm.User, perm.VHost = tn.user, tn.vhost
	if external {
		ctl(t, "add_vhost", tn.vhost)
		t.Cleanup(func() { ctlQuiet("delete_vhost", tn.vhost) })
		ctl(t, "add_user", tn.user, tn.pass)
		t.Cleanup(func() { ctlQuiet("delete_user", tn.user) })
		ctl(t, append([]string{"set_user_tags", tn.user}, tags...)...)
		ctl(t, "set_permissions", "-p", tn.vhost, tn.user, perm.Configure, perm.Write, perm.Read)
		ctl(t, "set_permissions", "-p", tn.vhost, "guest", ".*", ".*", ".*")
		return tn
	}
	b := shared.b
	users := b.Users()
	must(t, b.AddVHost(tn.vhost))
	t.Cleanup(func() { _ = b.DeleteVHost(tn.vhost) })
	must(t, users.Add(broker.User{Name: tn.user, Password: tn.pass, Tags: tags}))
	t.Cleanup(func() { _ = users.Delete(tn.user) })
	must(t, users.SetPermissions(perm))
	must(t, users.SetPermissions(broker.Permission{User: "guest", VHost: tn.vhost, Configure: ".*", Write: ".*", Read: ".*"}))
	return tn
}

func (tn tenant) setTopicPermission(t *testing.T, exchange, write, read string) {
	t.Helper()
	if external {
		ctl(t, "set_topic_permissions", "-p", tn.vhost, tn.user, exchange, write, read)
		return
	}
	must(t, shared.b.Users().SetTopicPermissions(broker.TopicPermission{User: tn.user, VHost: tn.vhost, Exchange: exchange, Write: write, Read: read}))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ctl(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("rabbitmqctl", args...).CombinedOutput(); err != nil {
		t.Fatalf("rabbitmqctl %q: %v\n%s", args, err, out)
	}
}

func ctlQuiet(args ...string) { _ = exec.Command("rabbitmqctl", args...).Run() }

// tenantURL is the broker's URL for user/pass in vhost.
func tenantURL(user, pass, vhost string) string {
	u, _ := url.Parse(amqpURL)
	u.User = url.UserPassword(user, pass)
	u.Path = "/" + vhost
	u.RawPath = "/" + url.PathEscape(vhost)
	return u.String()
}

func (tn tenant) dial(t *testing.T) *amqp.Connection {
	t.Helper()
	c, err := dialURL(t, tenantURL(tn.user, tn.pass, tn.vhost), amqp.Config{})
	if err != nil {
		t.Fatalf("dial as %s into %s: %v", tn.user, tn.vhost, err)
	}
	return c
}

func (tn tenant) dialGuest(t *testing.T) *amqp.Connection {
	t.Helper()
	c, err := dialURL(t, tenantURL("guest", "guest", tn.vhost), amqp.Config{})
	if err != nil {
		t.Fatalf("dial as guest into %s: %v", tn.vhost, err)
	}
	return c
}

// refusedWith runs op on a fresh channel of c, which must close that
// channel with code and exactly text, and leave c open.
func refusedWith(t *testing.T, c *amqp.Connection, what string, code int, text string, op func(ch *amqp.Channel) error) {
	t.Helper()
	ch := channel(t, c)
	closes := ch.NotifyClose(make(chan *amqp.Error, 1))
	_ = op(ch)
	select {
	case e := <-closes:
		if e == nil || e.Code != code || e.Reason != text {
			t.Errorf("%s: closed with %v, want %d %q", what, e, code, text)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("%s: channel not closed, want %d %q", what, code, text)
	}
	if c.IsClosed() {
		t.Fatalf("%s: connection closed", what)
	}
}

func allowed(t *testing.T, c *amqp.Connection, what string, op func(ch *amqp.Channel) error) {
	t.Helper()
	ch := channel(t, c)
	defer ch.Close()
	if err := op(ch); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

// publishSync publishes and then makes a round trip, so a refusal of the
// publish has closed the channel by the time it returns.
func publishSync(ch *amqp.Channel, x, key string, msg amqp.Publishing) error {
	if err := ch.Publish(x, key, false, false, msg); err != nil {
		return err
	}
	_, err := ch.QueueDeclarePassive("amq.rabbitmq.reply-to", false, false, false, false, nil)
	return err
}

// Every operation of RabbitMQ's access-control table, allowed and refused,
// with RabbitMQ's texts: configure to declare and delete, write on the
// destination and read on the source to bind and unbind, write to publish,
// read to consume, get and purge; passive declares need nothing.
func TestPermissionVerbs(t *testing.T) {
	tn := newTenant(t, broker.Permission{Configure: "^c-", Write: "^w-", Read: "^r-"})
	admin := channel(t, tn.dialGuest(t))
	for _, q := range []string{"w-q", "r-q", "n-q"} {
		if _, err := admin.QueueDeclare(q, false, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, x := range []string{"w-x", "r-x", "n-x"} {
		if err := admin.ExchangeDeclare(x, "direct", false, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	c := tn.dial(t)
	deny := func(kind, res string) string {
		return "ACCESS_REFUSED - access to " + kind + " '" + res + "' in vhost '" + tn.vhost + "' refused for user '" + tn.user + "'"
	}

	// configure
	allowed(t, c, "queue.declare c-q", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare("c-q", false, false, false, false, nil)
		return err
	})
	refusedWith(t, c, "queue.declare n-q2", 403, deny("queue", "n-q2"), func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare("n-q2", false, false, false, false, nil)
		return err
	})
	refusedWith(t, c, "queue.declare of an existing queue", 403, deny("queue", "n-q"), func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare("n-q", false, false, false, false, nil)
		return err
	})
	allowed(t, c, "passive queue.declare", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclarePassive("n-q", false, false, false, false, nil)
		return err
	})
	allowed(t, c, "passive exchange.declare", func(ch *amqp.Channel) error {
		return ch.ExchangeDeclarePassive("n-x", "direct", false, false, false, false, nil)
	})
	// A server-named queue is checked under the name it would get.
	ch := channel(t, c)
	closes := ch.NotifyClose(make(chan *amqp.Error, 1))
	_, _ = ch.QueueDeclare("", false, true, true, false, nil)
	if e := <-closes; e == nil || e.Code != 403 || !strings.HasPrefix(e.Reason, "ACCESS_REFUSED - access to queue 'amq.gen-") ||
		!strings.HasSuffix(e.Reason, "' in vhost '"+tn.vhost+"' refused for user '"+tn.user+"'") {
		t.Errorf("server-named queue.declare: %v", e)
	}
	refusedWith(t, c, "queue.delete of a missing queue", 403, deny("queue", "n-gone"), func(ch *amqp.Channel) error {
		_, err := ch.QueueDelete("n-gone", false, false, false)
		return err
	})
	refusedWith(t, c, "queue.delete", 403, deny("queue", "n-q"), func(ch *amqp.Channel) error {
		_, err := ch.QueueDelete("n-q", false, false, false)
		return err
	})
	allowed(t, c, "queue.delete c-q", func(ch *amqp.Channel) error {
		_, err := ch.QueueDelete("c-q", false, false, false)
		return err
	})
	allowed(t, c, "exchange.declare c-x", func(ch *amqp.Channel) error {
		return ch.ExchangeDeclare("c-x", "fanout", false, false, false, false, nil)
	})
	refusedWith(t, c, "exchange.declare", 403, deny("exchange", "n-x2"), func(ch *amqp.Channel) error {
		return ch.ExchangeDeclare("n-x2", "fanout", false, false, false, false, nil)
	})
	refusedWith(t, c, "exchange.delete", 403, deny("exchange", "n-x"), func(ch *amqp.Channel) error {
		return ch.ExchangeDelete("n-x", false, false)
	})
	allowed(t, c, "exchange.delete c-x", func(ch *amqp.Channel) error { return ch.ExchangeDelete("c-x", false, false) })

	// bind and unbind: write on the destination, read on the source.
	allowed(t, c, "queue.bind w-q to r-x", func(ch *amqp.Channel) error { return ch.QueueBind("w-q", "k", "r-x", false, nil) })
	allowed(t, c, "queue.unbind w-q from r-x", func(ch *amqp.Channel) error { return ch.QueueUnbind("w-q", "k", "r-x", nil) })
	refusedWith(t, c, "queue.bind without write on the queue", 403, deny("queue", "r-q"), func(ch *amqp.Channel) error {
		return ch.QueueBind("r-q", "k", "r-x", false, nil)
	})
	refusedWith(t, c, "queue.bind without read on the exchange", 403, deny("exchange", "w-x"), func(ch *amqp.Channel) error {
		return ch.QueueBind("w-q", "k", "w-x", false, nil)
	})
	refusedWith(t, c, "queue.unbind without read on the exchange", 403, deny("exchange", "w-x"), func(ch *amqp.Channel) error {
		return ch.QueueUnbind("w-q", "k", "w-x", nil)
	})
	refusedWith(t, c, "queue.bind to the default exchange", 403, "ACCESS_REFUSED - operation not permitted on the default exchange", func(ch *amqp.Channel) error {
		return ch.QueueBind("w-q", "k", "", false, nil)
	})
	allowed(t, c, "exchange.bind w-x <- r-x", func(ch *amqp.Channel) error { return ch.ExchangeBind("w-x", "k", "r-x", false, nil) })
	allowed(t, c, "exchange.unbind w-x <- r-x", func(ch *amqp.Channel) error { return ch.ExchangeUnbind("w-x", "k", "r-x", false, nil) })
	refusedWith(t, c, "exchange.bind without write on the destination", 403, deny("exchange", "r-x"), func(ch *amqp.Channel) error {
		return ch.ExchangeBind("r-x", "k", "r-x", false, nil)
	})
	refusedWith(t, c, "exchange.bind without read on the source", 403, deny("exchange", "n-x"), func(ch *amqp.Channel) error {
		return ch.ExchangeBind("w-x", "k", "n-x", false, nil)
	})
	refusedWith(t, c, "exchange.unbind without read on the source", 403, deny("exchange", "n-x"), func(ch *amqp.Channel) error {
		return ch.ExchangeUnbind("w-x", "k", "n-x", false, nil)
	})

	// publish: write on the exchange; the default one is amq.default.
	allowed(t, c, "publish to w-x", func(ch *amqp.Channel) error { return publishSync(ch, "w-x", "k", amqp.Publishing{}) })
	refusedWith(t, c, "publish to r-x", 403, deny("exchange", "r-x"), func(ch *amqp.Channel) error {
		return publishSync(ch, "r-x", "k", amqp.Publishing{})
	})
	refusedWith(t, c, "publish to the default exchange", 403, deny("exchange", "amq.default"), func(ch *amqp.Channel) error {
		return publishSync(ch, "", "w-q", amqp.Publishing{})
	})
	refusedWith(t, c, "publish to a missing exchange", 403, deny("exchange", "n-missing"), func(ch *amqp.Channel) error {
		return publishSync(ch, "n-missing", "k", amqp.Publishing{})
	})

	// consume, get, purge: read on the queue.
	allowed(t, c, "consume r-q", func(ch *amqp.Channel) error {
		_, err := ch.Consume("r-q", "", false, false, false, false, nil)
		return err
	})
	allowed(t, c, "get r-q", func(ch *amqp.Channel) error {
		_, _, err := ch.Get("r-q", false)
		return err
	})
	allowed(t, c, "purge r-q", func(ch *amqp.Channel) error {
		_, err := ch.QueuePurge("r-q", false)
		return err
	})
	refusedWith(t, c, "consume w-q", 403, deny("queue", "w-q"), func(ch *amqp.Channel) error {
		_, err := ch.Consume("w-q", "", false, false, false, false, nil)
		return err
	})
	refusedWith(t, c, "get w-q", 403, deny("queue", "w-q"), func(ch *amqp.Channel) error {
		_, _, err := ch.Get("w-q", false)
		return err
	})
	refusedWith(t, c, "purge w-q", 403, deny("queue", "w-q"), func(ch *amqp.Channel) error {
		_, err := ch.QueuePurge("w-q", false)
		return err
	})
}

// connection.open needs an existing vhost in which the user has
// permissions: else 530 with RabbitMQ's texts.
func TestVHostAccessRefused(t *testing.T) {
	tn := newTenant(t, broker.Permission{Configure: ".*", Write: ".*", Read: ".*"})
	for _, c := range []struct{ vhost, text string }{
		{"/", "Exception (530) Reason: \"NOT_ALLOWED - access to vhost '/' refused for user '" + tn.user + "'\""},
		{"missing-" + tn.vhost, "Exception (530) Reason: \"NOT_ALLOWED - vhost missing-" + tn.vhost + " not found\""},
	} {
		_, err := dialURL(t, tenantURL(tn.user, tn.pass, c.vhost), amqp.Config{})
		if err == nil || err.Error() != c.text {
			t.Errorf("open %q: %v, want %s", c.vhost, err, c.text)
		}
	}
	_, err := dialURL(t, tenantURL(tn.user, "wrong", tn.vhost), amqp.Config{})
	if want := "Exception (403) Reason: \"username or password not allowed\""; err == nil || err.Error() != want {
		t.Errorf("wrong password: %v, want %s", err, want)
	}
}

// The same queue name in two vhosts is two queues.
func TestVHostIsolation(t *testing.T) {
	all := broker.Permission{Configure: ".*", Write: ".*", Read: ".*"}
	a, b := newTenant(t, all), newTenant(t, all)
	cha, chb := channel(t, a.dial(t)), channel(t, b.dial(t))
	for _, ch := range []*amqp.Channel{cha, chb} {
		if _, err := ch.QueueDeclare("same", false, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	publishText(t, cha, "", "same", "for a")
	publishText(t, chb, "", "same", "for b")
	publishText(t, chb, "", "same", "for b again")
	mustGet(t, cha, "same", true, "for a")
	mustGetEmpty(t, cha, "same")
	mustGet(t, chb, "same", true, "for b")
	mustGet(t, chb, "same", true, "for b again")
}

// Topic permissions restrict routing keys on a topic exchange: write to
// publish, read to bind, with {username} expanded.
func TestTopicPermissions(t *testing.T) {
	tn := newTenant(t, broker.Permission{Configure: ".*", Write: ".*", Read: ".*"})
	tn.setTopicPermission(t, "amq.topic", `^{username}\.`, `^r\.`)
	c := tn.dial(t)
	ch := channel(t, c)
	if _, err := ch.QueueDeclare("tq", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	deny := func(key string) string {
		return "ACCESS_REFUSED - access to topic '" + key + "' in exchange 'amq.topic' in vhost '" + tn.vhost + "' refused for user '" + tn.user + "'"
	}
	allowed(t, c, "bind r.#", func(ch *amqp.Channel) error { return ch.QueueBind("tq", "r.#", "amq.topic", false, nil) })
	allowed(t, c, "publish with the user's prefix", func(ch *amqp.Channel) error {
		return publishSync(ch, "amq.topic", tn.user+".a", amqp.Publishing{})
	})
	refusedWith(t, c, "publish other key", 403, deny("zz"), func(ch *amqp.Channel) error {
		return publishSync(ch, "amq.topic", "zz", amqp.Publishing{})
	})
	refusedWith(t, c, "bind other key", 403, deny("zz"), func(ch *amqp.Channel) error {
		return ch.QueueBind("tq", "zz", "amq.topic", false, nil)
	})
	allowed(t, c, "other exchanges are not restricted", func(ch *amqp.Channel) error {
		return publishSync(ch, "amq.direct", "zz", amqp.Publishing{})
	})
}

// user_id must be the authenticated user's, unless the user is an
// impersonator.
func TestUserIDValidation(t *testing.T) {
	all := broker.Permission{Configure: ".*", Write: ".*", Read: ".*"}
	plain := newTenant(t, all)
	imp := newTenant(t, all, "impersonator")
	c := plain.dial(t)
	allowed(t, c, "own user_id", func(ch *amqp.Channel) error {
		return publishSync(ch, "amq.direct", "k", amqp.Publishing{UserId: plain.user})
	})
	refusedWith(t, c, "other user_id", 406, "PRECONDITION_FAILED - user_id property set to 'someone' but authenticated user was '"+plain.user+"'", func(ch *amqp.Channel) error {
		return publishSync(ch, "amq.direct", "k", amqp.Publishing{UserId: "someone"})
	})
	ci := imp.dial(t)
	ch := channel(t, ci)
	if _, err := ch.QueueDeclare("uid", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	publish(t, ch, "", "uid", amqp.Publishing{UserId: "someone", Body: []byte("x")})
	if d := mustGet(t, ch, "uid", true, "x"); d.UserId != "someone" {
		t.Fatalf("user_id %q", d.UserId)
	}
}

// Deleting a vhost closes its connections with RabbitMQ's 320. RabbitMQ
// 3.10.8 races two closes (rabbit_connection_tracking: "is deleted" on
// vhost_deleted, "is down" when the vhost's supervisor stops first) and
// sends either; Warren sends the first.
func TestDeleteVHostClosesConnections(t *testing.T) {
	tn := newTenant(t, broker.Permission{Configure: ".*", Write: ".*", Read: ".*"})
	c := tn.dial(t)
	closes := c.NotifyClose(make(chan *amqp.Error, 1))
	if external {
		ctl(t, "delete_vhost", tn.vhost)
	} else {
		must(t, shared.b.DeleteVHost(tn.vhost))
	}
	e := waitClosed(t, closes, 320, "connection to the deleted vhost")
	want := "CONNECTION_FORCED - vhost '" + tn.vhost + "' is deleted"
	if external && e.Reason == "CONNECTION_FORCED - vhost '"+tn.vhost+"' is down" {
		return
	}
	if e.Reason != want {
		t.Fatalf("reason %q, want %q", e.Reason, want)
	}
}

// A user imported with the hash RabbitMQ 3.10.8 exported for password
// "pw" logs in with amqp091-go, PLAIN and AMQPLAIN.
func TestRabbitMQHashLogin(t *testing.T) {
	needLocal(t)
	tn := newTenant(t, broker.Permission{Configure: ".*", Write: ".*", Read: ".*"})
	must(t, shared.b.Users().AddHashed(tn.user, "6hr1bDrOSKocLS8y/hdx3fj55SlXLBYS4ss5aT5DlH8srBvD", "rabbit_password_hashing_sha256", nil))
	for _, auth := range []amqp.Authentication{&amqp.PlainAuth{Username: tn.user, Password: "pw"}, &amqp.AMQPlainAuth{Username: tn.user, Password: "pw"}} {
		c, err := dialURL(t, tenantURL(tn.user, "unused", tn.vhost), amqp.Config{SASL: []amqp.Authentication{auth}})
		if err != nil {
			t.Fatalf("%s: %v", auth.Mechanism(), err)
		}
		connUsable(t, c)
	}
	_, err := dialURL(t, tenantURL(tn.user, "pw2", tn.vhost), amqp.Config{})
	wantCode(t, err, 403, "wrong password")
}
