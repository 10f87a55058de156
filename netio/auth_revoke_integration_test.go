package netio_test

import (
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/broker"
)

// What happens to a user's open connections when an administrator takes
// the user's access away, as RabbitMQ 3.10.8 does it (observed with pika
// against it): deleting the user closes every connection of that user with
// 320 CONNECTION_FORCED "user '<name>' is deleted" at once; clearing or
// narrowing its permissions, changing its password or its tags closes
// nothing, and the next operation the new permissions forbid is refused
// with 403 on its channel.

func (tn tenant) deleteUser(t *testing.T) {
	t.Helper()
	if external {
		ctl(t, "delete_user", tn.user)
		return
	}
	must(t, shared.b.Users().Delete(tn.user))
}

func TestDeletedUserConnectionsClosed(t *testing.T) {
	all := broker.Permission{Configure: ".*", Write: ".*", Read: ".*"}
	tn := newTenant(t, all)
	other := newTenant(t, all)
	c1, c2 := tn.dial(t), tn.dial(t)
	bystander := other.dial(t)
	closes := []<-chan *amqp.Error{
		c1.NotifyClose(make(chan *amqp.Error, 1)),
		c2.NotifyClose(make(chan *amqp.Error, 1)),
	}
	ch := channel(t, c1)
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	must(t, err)
	_ = q
	tn.deleteUser(t)
	want := "CONNECTION_FORCED - user '" + tn.user + "' is deleted"
	for i, cl := range closes {
		select {
		case e := <-cl:
			if e == nil || e.Code != amqp.ConnectionForced || e.Reason != want {
				t.Errorf("connection %d closed with %v, want 320 %q", i+1, e, want)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("connection %d of the deleted user still open after %v", i+1, waitTimeout)
		}
	}
	if bystander.IsClosed() {
		t.Fatal("another user's connection was closed")
	}
	allowed(t, bystander, "the other user declares", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare("", false, true, true, false, nil)
		return err
	})
	if _, err := dialURL(t, tenantURL(tn.user, tn.pass, tn.vhost), amqp.Config{}); err == nil {
		t.Fatal("the deleted user logs in again")
	}
}

// Permissions cleared under an open connection: it stays open, and what
// the user may no longer do is refused on the channel that tries.
func TestRevokedPermissionsRefuseNextOperation(t *testing.T) {
	tn := newTenant(t, broker.Permission{Configure: ".*", Write: ".*", Read: ".*"})
	c := tn.dial(t)
	closed := c.NotifyClose(make(chan *amqp.Error, 1))
	q := name(t, "q")
	allowed(t, c, "declare before", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare(q, false, true, false, false, nil)
		return err
	})
	if external {
		ctl(t, "clear_permissions", "-p", tn.vhost, tn.user)
		ctl(t, "change_password", tn.user, "changed")
	} else {
		must(t, shared.b.Users().ClearPermissions(tn.user, tn.vhost))
		must(t, shared.b.Users().SetPassword(tn.user, "changed"))
	}
	refusedWith(t, c, "declare after the permissions are cleared", 403,
		"ACCESS_REFUSED - access to queue '"+q+"' in vhost '"+tn.vhost+"' refused for user '"+tn.user+"'",
		func(ch *amqp.Channel) error {
			_, err := ch.QueueDeclare(q, false, true, false, false, nil)
			return err
		})
	select {
	case e := <-closed:
		t.Fatalf("connection closed (%v): RabbitMQ keeps it open", e)
	case <-time.After(200 * time.Millisecond):
	}
}
