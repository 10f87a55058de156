package perf

import "fmt"

// Topology is the queues, bindings and routing keys a run uses.
type Topology struct {
	Queues   []string
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

// ConsumerQueue is the queue consumer i reads.
func (t *Topology) ConsumerQueue(i int) string { return t.Queues[i%len(t.Queues)] }
