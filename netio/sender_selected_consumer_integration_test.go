package netio_test

import (
	"fmt"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// A message with a BCC header published to a queue whose consumer is
// waiting reaches it without the header, with and without acks. Warren's
// direct delivery (appendFresh) handed the consumer the stored properties
// with BCC still in them: its record lacked the flag that strips it.
func TestSenderSelectedBCCToWaitingConsumer(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	for _, autoAck := range []bool{false, true} {
		q := declareQueue(t, ch, fmt.Sprint("waiting-", autoAck))
		ds := consume(t, ch, q, "", autoAck)
		// The first message opens the queue's store; the second finds it
		// open and the consumer waiting.
		for i := range 2 {
			publish(t, ch, "", name(t, "nowhere"), amqp.Publishing{Body: []byte("m"), Headers: amqp.Table{"BCC": []any{q}, "h": int32(1)}})
			d := recv(t, ds)
			if _, has := d.Headers["BCC"]; has || d.Headers["h"] != int32(1) || string(d.Body) != "m" {
				t.Fatalf("autoAck %v, message %d: delivered headers %v body %q, want only h", autoAck, i, d.Headers, d.Body)
			}
			if !autoAck {
				if err := d.Ack(false); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}
