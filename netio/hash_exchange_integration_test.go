package netio_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// declareHashExchange declares an x-consistent-hash exchange, skipping
// the test on a broker without the plugin (the shared RabbitMQ).
func declareHashExchange(t *testing.T, c *amqp.Connection, args amqp.Table) string {
	t.Helper()
	ch := channel(t, c)
	x := name(t, fmt.Sprint("hash", args))
	if err := ch.ExchangeDeclare(x, "x-consistent-hash", false, false, false, false, args); err != nil {
		if external && amqpCode(err) == amqp.CommandInvalid {
			t.Skip("the broker has no consistent-hash exchange plugin")
		}
		t.Fatalf("declare x-consistent-hash: %v", err)
	}
	cleanupExchange(t, x)
	return x
}

// hashCounts publishes n messages built by msg and returns how many each
// queue got, checking every message went to exactly one.
func hashCounts(t *testing.T, c *amqp.Connection, ch *amqp.Channel, x string, qs []string, n int, msg func(i int) (string, amqp.Publishing)) map[string]int {
	t.Helper()
	for i := range n {
		key, p := msg(i)
		publish(t, ch, x, key, p)
	}
	counts := map[string]int{}
	total := 0
	eventually(t, func() bool {
		total = 0
		for _, q := range qs {
			counts[q] = queueState(t, c, q).Messages
			total += counts[q]
		}
		return total == n
	}, "%d messages to be routed, one queue each (have %d)", n, &total)
	return counts
}

func TestConsistentHashExchangeWeights(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	x := declareHashExchange(t, c, nil)
	qa, qb := declareQueue(t, ch, "a"), declareQueue(t, ch, "b")
	bindQueue(t, ch, qa, "1", x, nil)
	bindQueue(t, ch, qb, "3", x, nil)
	const n = 2000
	counts := hashCounts(t, c, ch, x, []string{qa, qb}, n, func(i int) (string, amqp.Publishing) {
		return fmt.Sprint("order-", i), amqp.Publishing{}
	})
	if counts[qa] < n/4-150 || counts[qa] > n/4+150 {
		t.Fatalf("weights 1:3 gave %d:%d of %d", counts[qa], counts[qb], n)
	}
	// The same key always lands on the same queue.
	for _, q := range []string{qa, qb} {
		if _, err := ch.QueuePurge(q, false); err != nil {
			t.Fatal(err)
		}
	}
	counts = hashCounts(t, c, ch, x, []string{qa, qb}, 50, func(int) (string, amqp.Publishing) {
		return "same-key", amqp.Publishing{}
	})
	if counts[qa] != 50 && counts[qb] != 50 {
		t.Fatalf("one key spread over queues: %v", counts)
	}
}

func TestConsistentHashExchangeHashOn(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	for _, tc := range []struct {
		args amqp.Table
		msg  func(i int) amqp.Publishing
	}{
		{amqp.Table{"hash-header": "customer"}, func(i int) amqp.Publishing {
			return amqp.Publishing{Headers: amqp.Table{"customer": fmt.Sprint("c", i/10)}}
		}},
		{amqp.Table{"hash-property": "message_id"}, func(i int) amqp.Publishing { return amqp.Publishing{MessageId: fmt.Sprint("m", i/10)} }},
		{amqp.Table{"hash-property": "correlation_id"}, func(i int) amqp.Publishing { return amqp.Publishing{CorrelationId: fmt.Sprint("r", i/10)} }},
	} {
		x := declareHashExchange(t, c, tc.args)
		// One queue per group of ten messages with the same hashed value:
		// the routing key varies and must not matter.
		var qs []string
		for i := range 4 {
			q := declareQueue(t, ch, fmt.Sprintf("%v-%d", tc.args, i))
			bindQueue(t, ch, q, "10", x, nil)
			qs = append(qs, q)
		}
		spread := hashCounts(t, c, ch, x, qs, 400, func(i int) (string, amqp.Publishing) { return fmt.Sprint("rk-", i), tc.msg(i) })
		for q, n := range spread {
			if n%10 != 0 || n == 400 {
				t.Fatalf("%v: %s got %d of 400: groups of ten split, or nothing spread: %v", tc.args, q, n, spread)
			}
			if _, err := ch.QueuePurge(q, false); err != nil {
				t.Fatal(err)
			}
		}
		// Ten messages with one hashed value and ten routing keys: one queue.
		counts := hashCounts(t, c, ch, x, qs, 10, func(int) (string, amqp.Publishing) { return fmt.Sprint("rk-", rand.Int()), tc.msg(70) })
		full := 0
		for _, n := range counts {
			if n == 10 {
				full++
			}
		}
		if full != 1 {
			t.Fatalf("%v: one hashed value spread over queues: %v", tc.args, counts)
		}
	}
}

func TestConsistentHashExchangeChecks(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	x := declareHashExchange(t, c, nil)
	q := declareQueue(t, ch, "q")
	channelFails(t, c, amqp.PreconditionFailed, "binding key that is not a weight", func(ch *amqp.Channel) error {
		err := ch.QueueBind(q, "heavy", x, false, nil)
		if err != nil && !strings.Contains(err.Error(), "The binding key must be an integer") {
			t.Errorf("error %v, want the plugin's text", err)
		}
		return err
	})
	channelFails(t, c, amqp.PreconditionFailed, "hash-header with hash-property", func(ch *amqp.Channel) error {
		return ch.ExchangeDeclare(name(t, "both"), "x-consistent-hash", false, true, false, false,
			amqp.Table{"hash-header": "h", "hash-property": "message_id"})
	})
	channelFails(t, c, amqp.PreconditionFailed, "unknown hash-property", func(ch *amqp.Channel) error {
		err := ch.ExchangeDeclare(name(t, "prop"), "x-consistent-hash", false, true, false, false, amqp.Table{"hash-property": "app_id"})
		if err != nil && !strings.Contains(err.Error(), "Unsupported property: app_id") {
			t.Errorf("error %v, want the plugin's text", err)
		}
		return err
	})
}
