package perf

import (
	"fmt"

	"github.com/warrenmq/warren/bench/wire"
)

// Topology is the queues, bindings and routing keys a run uses.
type Topology struct {
	Queues   []string
	DLQs     []string  // dead-letter targets, one per queue (DeadLetter runs)
	Bindings []Binding // empty for the default exchange
	Keys     []string  // publish routing keys; producer i starts at key i
}

// Binding binds Queue to the run's exchange with Key.
type Binding struct{ Queue, Key string }

// BuildTopology derives names and keys from the configuration:
//   - default exchange: producer i publishes to queue i mod N by name;
//   - direct: queue q bound with key q's name (or B bindings "key.<b>" over the queues);
//   - fanout: every queue bound with "", publish key "";
//   - topic: B bindings "perf.<b>.*" (B defaults to N) to queue b mod N; the
//     publish keys "perf.<b>.x" cycle so each message matches one binding.
func BuildTopology(c *Config) Topology {
	var t Topology
	for i := 0; i < c.Queues; i++ {
		t.Queues = append(t.Queues, fmt.Sprintf("%s-%d", c.QueuePrefix, i))
		if c.DeadLetter {
			t.DLQs = append(t.DLQs, fmt.Sprintf("%s-dlq-%d", c.QueuePrefix, i))
		}
	}
	nb := c.Bindings
	if nb == 0 {
		nb = c.Queues
	}
	switch c.Type {
	case "":
		t.Keys = append(t.Keys, t.Queues...)
	case "fanout":
		for _, q := range t.Queues {
			t.Bindings = append(t.Bindings, Binding{q, ""})
		}
		t.Keys = []string{""}
	case "direct":
		for b := 0; b < nb; b++ {
			key := t.Queues[b%c.Queues]
			if c.Bindings > 0 {
				key = fmt.Sprintf("key.%d", b)
			}
			t.Bindings = append(t.Bindings, Binding{t.Queues[b%c.Queues], key})
			t.Keys = append(t.Keys, key)
		}
	case "topic":
		for b := 0; b < nb; b++ {
			t.Bindings = append(t.Bindings, Binding{t.Queues[b%c.Queues], fmt.Sprintf("perf.%d.*", b)})
			t.Keys = append(t.Keys, fmt.Sprintf("perf.%d.x", b))
		}
	}
	if len(c.Keys) > 0 {
		t.Keys = c.Keys
	}
	return t
}

// ProducerKeys is the key rotation for producer i: with the default
// exchange each producer targets one queue; otherwise all keys, rotated.
func (t *Topology) ProducerKeys(c *Config, i int) []string {
	if c.Type == "" && len(c.Keys) == 0 {
		return []string{t.Keys[i%len(t.Keys)]}
	}
	k := make([]string, 0, len(t.Keys))
	off := i % len(t.Keys)
	k = append(k, t.Keys[off:]...)
	return append(k, t.Keys[:off]...)
}

// ConsumeArgs are the basic.consume arguments: a stream is read from its
// first message.
func ConsumeArgs(c *Config) wire.Table {
	if c.Stream {
		return wire.Table{{Key: "x-stream-offset", Value: "first"}}
	}
	return nil
}

// ConsumerQueue is the queue consumer i reads.
// In a dead-letter run consumers read the dead-letter queues.
func (t *Topology) ConsumerQueue(i int) string {
	if len(t.DLQs) > 0 {
		return t.DLQs[i%len(t.DLQs)]
	}
	return t.Queues[i%len(t.Queues)]
}

// QueueArgs are the declare arguments of queue i.
func (t *Topology) QueueArgs(c *Config, i int) wire.Table {
	var a wire.Table
	if c.QueueTTL >= 0 && !c.DeadLetter {
		a = append(a, wire.Field{Key: "x-message-ttl", Value: int32(c.QueueTTL)})
	}
	if c.Stream {
		a = append(a, wire.Field{Key: "x-queue-type", Value: "stream"})
	}
	if c.MaxPriority > 0 {
		a = append(a, wire.Field{Key: "x-max-priority", Value: int32(c.MaxPriority)})
	}
	if c.DeadLetter {
		a = append(a, wire.Field{Key: "x-message-ttl", Value: int32(0)},
			wire.Field{Key: "x-dead-letter-exchange", Value: ""},
			wire.Field{Key: "x-dead-letter-routing-key", Value: t.DLQs[i]})
	}
	return a
}
