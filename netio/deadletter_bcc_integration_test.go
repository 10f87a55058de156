package netio_test

import (
	"slices"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// A message published with BCC, rejected into a dead-letter exchange with
// no dead-letter routing key, is routed there with its routing key and
// its CC and BCC keys, as RabbitMQ 3.10 routes it (its message keeps all
// of them as routing keys); no delivery shows the BCC header, and
// x-death's routing-keys holds the key and CC only.
func TestDeadLetterRoutesWithBCCKeys(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	dlx := declareExchange(t, ch, "dlx", "direct")
	bq := declareQueue(t, ch, "bcc-target")
	src := name(t, "src")
	if _, err := ch.QueueDeclare(src, false, false, false, false, amqp.Table{"x-dead-letter-exchange": dlx}); err != nil {
		t.Fatal(err)
	}
	cleanupQueue(t, src)
	byKey, byBCC, byCC := declareQueue(t, ch, "dl-key"), declareQueue(t, ch, "dl-bcc"), declareQueue(t, ch, "dl-cc")
	bindQueue(t, ch, byKey, src, dlx, nil)
	bindQueue(t, ch, byBCC, bq, dlx, nil)
	bindQueue(t, ch, byCC, "cc-key", dlx, nil)

	publish(t, ch, "", src, amqp.Publishing{Body: []byte("m"), Headers: amqp.Table{"BCC": []any{bq}, "CC": []any{"cc-key"}}})
	roundTrip(t, ch, src)
	if d := mustGet(t, ch, bq, true, "m"); d.Headers["BCC"] != nil {
		t.Fatalf("the BCC target's copy shows BCC: %v", d.Headers)
	}
	d := mustGet(t, ch, src, false, "m")
	if d.Headers["BCC"] != nil {
		t.Fatalf("delivery shows BCC: %v", d.Headers)
	}
	if err := d.Reject(false); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{byKey, byBCC, byCC} {
		c := dial(t)
		waitMessages(t, c, q, 1)
		dl := mustGet(t, ch, q, true, "m")
		if dl.Headers["BCC"] != nil {
			t.Errorf("dead letter in %s shows BCC: %v", q, dl.Headers)
		}
		deaths, _ := dl.Headers["x-death"].([]any)
		if len(deaths) != 1 {
			t.Fatalf("dead letter in %s: x-death %v", q, dl.Headers["x-death"])
		}
		rks, _ := deaths[0].(amqp.Table)["routing-keys"].([]any)
		if !slices.Equal(rks, []any{src, "cc-key"}) {
			t.Errorf("x-death routing-keys %v, want the key and CC only", rks)
		}
	}
}
