package netio_test

import (
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestSenderSelectedCCAndBCC(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	x := declareExchange(t, ch, "x", "direct")
	qa, qb, qc := declareQueue(t, ch, "a"), declareQueue(t, ch, "b"), declareQueue(t, ch, "c")
	bindQueue(t, ch, qa, "a", x, nil)
	bindQueue(t, ch, qb, "b", x, nil)
	bindQueue(t, ch, qc, "c", x, nil)

	// a is reached three ways and gets one copy; the integer is skipped.
	publish(t, ch, x, "a", amqp.Publishing{Body: []byte("m"), Headers: amqp.Table{
		"CC":    []any{"b", int32(7), "a"},
		"BCC":   []any{"c", "a"},
		"other": "kept",
	}})
	for _, q := range []string{qa, qb, qc} {
		d := mustGet(t, ch, q, true, "m")
		if _, has := d.Headers["BCC"]; has {
			t.Fatalf("%s: BCC header delivered: %v", q, d.Headers)
		}
		cc, _ := d.Headers["CC"].([]any)
		if len(cc) != 3 || d.Headers["other"] != "kept" {
			t.Fatalf("%s: headers %v, want CC and other kept", q, d.Headers)
		}
		if d.RoutingKey != "a" {
			t.Fatalf("%s: routing key %q, want the published one", q, d.RoutingKey)
		}
		mustGetEmpty(t, ch, q)
	}
}

// On the default exchange, CC and BCC keys name queues; a BCC-only
// message keeps the rest of its headers.
func TestSenderSelectedDefaultExchange(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	qa, qb := declareQueue(t, ch, "a"), declareQueue(t, ch, "b")
	publish(t, ch, "", name(t, "nowhere"), amqp.Publishing{Body: []byte("m"), Headers: amqp.Table{"BCC": []any{qa, qb}, "h": int32(1)}})
	for _, q := range []string{qa, qb} {
		d := mustGet(t, ch, q, true, "m")
		if len(d.Headers) != 1 || d.Headers["h"] != int32(1) {
			t.Fatalf("%s: headers %v, want only h", q, d.Headers)
		}
	}
}

// The alternate exchange is used only when no key, CC and BCC included,
// routes the message.
func TestSenderSelectedBeforeAlternate(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	ae := declareExchange(t, ch, "ae", "fanout")
	aeq := declareQueue(t, ch, "aeq")
	bindQueue(t, ch, aeq, "", ae, nil)
	x := declareExchangeArgs(t, ch, "x", "topic", amqp.Table{"alternate-exchange": ae})
	q := declareQueue(t, ch, "q")
	bindQueue(t, ch, q, "k.*", x, nil)
	publish(t, ch, x, "none", amqp.Publishing{Body: []byte("bcc"), Headers: amqp.Table{"BCC": []any{"k.1"}}})
	publish(t, ch, x, "none", amqp.Publishing{Body: []byte("unroutable"), Headers: amqp.Table{"CC": []any{"z"}}})
	mustGet(t, ch, q, true, "bcc")
	mustGet(t, ch, aeq, true, "unroutable")
	mustGetEmpty(t, ch, q)
	mustGetEmpty(t, ch, aeq)
}

func TestSenderSelectedHeaderOfWrongType(t *testing.T) {
	t.Parallel()
	c := dial(t)
	channelFails(t, c, amqp.PreconditionFailed, "CC of type longstr", func(ch *amqp.Channel) error {
		closes := ch.NotifyClose(make(chan *amqp.Error, 1))
		publish(t, ch, "", "nowhere", amqp.Publishing{Headers: amqp.Table{"CC": "abc"}})
		e := waitClosed(t, closes, amqp.PreconditionFailed, "CC of type longstr")
		if !strings.Contains(e.Reason, `invalid message: {unacceptable_type_in_header,"CC",longstr}`) {
			t.Errorf("close %q, want RabbitMQ's text", e.Reason)
		}
		return e
	})
}
