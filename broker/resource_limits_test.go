package broker

import (
	"errors"
	"maps"
	"testing"

	"github.com/warrenmq/warren/frame"
)

// A RabbitMQ 3.10 export (rabbitmqctl export_definitions) carries vhost
// limits as "vhost-limits" parameters and user limits in the user entry;
// other components' parameters are left alone.
func TestImportLimits(t *testing.T) {
	b := openTestBroker(t)
	data := []byte(`{
  "users": [{"name": "lu", "password_hash": "nAMwvPO0qAHTffedXa4S5qK2VIWDWWZeZvlszo3GZAkvP1RK", "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": [], "limits": {"max-channels": 4}}],
  "vhosts": [{"name": "lv", "limits": [["max-queues", 7]], "metadata": {"description": "", "tags": ""}}],
  "parameters": [
    {"component": "vhost-limits", "name": "limits", "value": {"max-queues": 7}, "vhost": "lv"},
    {"component": "federation-upstream", "name": "up", "value": {"uri": "amqp://x"}, "vhost": "lv"}
  ]
}`)
	if err := b.ImportDefinitions(data); err != nil {
		t.Fatal(err)
	}
	if l, _ := b.VHostLimits("lv"); !maps.Equal(l, Limits{"max-queues": 7}) {
		t.Fatalf("vhost limits %v", l)
	}
	if l, _ := b.UserLimits("lu"); !maps.Equal(l, Limits{"max-channels": 4}) {
		t.Fatalf("user limits %v", l)
	}
}

func TestLimitsRefuseUnknownNames(t *testing.T) {
	b := openTestBroker(t)
	if err := b.SetVHostLimits("/", Limits{"max-channels": 1}); err == nil {
		t.Fatal("max-channels accepted as a vhost limit")
	}
	if err := b.SetUserLimits("guest", Limits{"max-queues": 1}); err == nil {
		t.Fatal("max-queues accepted as a user limit")
	}
	if err := b.SetVHostLimits("nope", Limits{}); !errors.Is(err, ErrNoSuchVHost) {
		t.Fatalf("unknown vhost: %v", err)
	}
	if err := b.SetUserLimits("nope", Limits{}); !errors.Is(err, ErrNoSuchUser) {
		t.Fatalf("unknown user: %v", err)
	}
}

// Slots are taken and given back one for one; a negative limit is none.
func TestAdmitConnection(t *testing.T) {
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	if err := b.SetVHostLimits("/", Limits{"max-connections": 1}); err != nil {
		t.Fatal(err)
	}
	if err := b.AdmitConnection("guest", v); err != nil {
		t.Fatal(err)
	}
	var fe *frame.Error
	if err := b.AdmitConnection("guest", v); !errors.As(err, &fe) || fe.Code != frame.NotAllowed {
		t.Fatalf("second connection: %v", err)
	}
	b.ReleaseConnection("guest", "/")
	if err := b.AdmitConnection("guest", v); err != nil {
		t.Fatalf("after release: %v", err)
	}
	if err := b.SetVHostLimits("/", Limits{"max-connections": -1}); err != nil {
		t.Fatal(err)
	}
	if err := b.AdmitConnection("guest", v); err != nil {
		t.Fatalf("-1 is no limit: %v", err)
	}
}
