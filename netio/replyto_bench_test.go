package netio_test

import (
	"context"
	"fmt"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// BenchmarkDirectReplyToRPC is one RPC round trip at a time over direct
// reply-to, as RabbitMQ's RPC tutorial does it: request into a queue, a
// server consumer answers on the default exchange, the client's reply
// consumer gets it. With WARREN_IT_URL it measures that broker instead.
func BenchmarkDirectReplyToRPC(b *testing.B) {
	dialB := func() (*amqp.Connection, *amqp.Channel) {
		c, err := amqp.Dial(amqpURL)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close() })
		ch, err := c.Channel()
		if err != nil {
			b.Fatal(err)
		}
		return c, ch
	}
	_, server := dialB()
	_, client := dialB()
	q := fmt.Sprintf("bench.%s.rpc", runID)
	if _, err := server.QueueDeclare(q, false, true, false, false, nil); err != nil {
		b.Fatal(err)
	}
	requests, err := server.Consume(q, "", true, false, false, false, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	go func() {
		for d := range requests {
			_ = server.PublishWithContext(ctx, "", d.ReplyTo, false, false, amqp.Publishing{CorrelationId: d.CorrelationId, Body: d.Body})
		}
	}()
	replies, err := client.Consume("amq.rabbitmq.reply-to", "", true, false, false, false, nil)
	if err != nil {
		b.Fatal(err)
	}
	req := amqp.Publishing{ReplyTo: "amq.rabbitmq.reply-to", CorrelationId: "c", Body: []byte("ping")}
	b.ResetTimer()
	for b.Loop() {
		if err := client.PublishWithContext(ctx, "", q, false, false, req); err != nil {
			b.Fatal(err)
		}
		if _, ok := <-replies; !ok {
			b.Fatal("reply consumer closed")
		}
	}
}
