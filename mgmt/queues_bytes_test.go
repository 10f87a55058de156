package mgmt

import (
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// A queue's message_bytes split into ready and unacknowledged bodies as a
// client moves them, and memory is reported (runnable against RabbitMQ
// with WARREN_MGMT_URL; RabbitMQ updates these on its stats interval,
// hence the polling).
func TestQueueMessageBytes(t *testing.T) {
	tg := newAMQPTarget(t)
	q := "qbytes-" + tg.id
	c := tg.dial(t, "qbytes")
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(q, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.guest(t, "DELETE", "/api/queues/%2F/"+q, "") })
	for _, body := range []string{"hello", "hello world!"} { // 5 + 12 bytes
		if err := ch.Publish("", q, false, false, amqp.Publishing{Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
	}
	bytesAre := func(ready, unacked float64) func() bool {
		return func() bool {
			o := object(t, tg.target, "/api/queues/%2F/"+q)
			mem, _ := o["memory"].(float64)
			return o["message_bytes_ready"] == ready && o["message_bytes_unacknowledged"] == unacked &&
				o["message_bytes"] == ready+unacked && mem > 0
		}
	}
	poll(t, "17 ready bytes", bytesAre(17, 0))
	d, ok, err := ch.Get(q, false)
	if err != nil || !ok {
		t.Fatalf("get: %v %v", ok, err)
	}
	poll(t, "12 ready, 5 unacked", bytesAre(12, 5))
	if err := d.Ack(false); err != nil {
		t.Fatal(err)
	}
	poll(t, "12 ready after the ack", bytesAre(12, 0))
	if _, err := ch.QueuePurge(q, false); err != nil {
		t.Fatal(err)
	}
	poll(t, "nothing after the purge", bytesAre(0, 0))
}
