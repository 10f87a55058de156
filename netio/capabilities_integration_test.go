package netio_test

import (
	"slices"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// rabbitCapabilities is RabbitMQ 3.10's connection.start capabilities
// table: all true.
var rabbitCapabilities = []string{"publisher_confirms", "exchange_exchange_bindings", "basic.nack",
	"consumer_cancel_notify", "connection.blocked", "consumer_priorities", "authentication_failure_close",
	"per_consumer_qos", "direct_reply_to"}

// warrenCapabilities are those Warren has the features for; the rest of
// RabbitMQ's must not be advertised, since clients act on them.
var warrenCapabilities = []string{"publisher_confirms", "exchange_exchange_bindings", "basic.nack",
	"consumer_cancel_notify", "authentication_failure_close", "per_consumer_qos", "direct_reply_to",
	"consumer_priorities", "connection.blocked"}

func TestCapabilitiesAdvertised(t *testing.T) {
	t.Parallel()
	c := dial(t)
	caps, ok := c.Properties["capabilities"].(amqp.Table)
	if !ok {
		t.Fatalf("no capabilities table: %#v", c.Properties)
	}
	want := warrenCapabilities
	if external {
		want = rabbitCapabilities
	}
	for k, v := range caps {
		if !slices.Contains(rabbitCapabilities, k) {
			t.Errorf("capability %q is not one RabbitMQ 3.10 advertises", k)
		}
		if b, _ := v.(bool); !b {
			t.Errorf("capability %q = %#v, want true", k, v)
		}
	}
	for _, k := range want {
		if _, ok := caps[k]; !ok {
			t.Errorf("capability %q missing", k)
		}
	}
	if len(caps) != len(want) {
		t.Errorf("capabilities %v, want exactly %v", caps, want)
	}
}
