package broker

import "testing"

// An alternate exchange set by a policy takes the exchange's unroutable
// messages as one set by its argument does, and stops when the policy goes.
func TestPolicyAlternateExchangeRoutes(t *testing.T) {
	v := openTestVHost(t)
	must := mustOK(t)
	must(v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "pae.src", Type: "direct"}))
	must(v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "pae.ae", Type: "fanout"}))
	_, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "pae.q"})
	must(err)
	must(v.QueueBind(guest, Binding{Source: "pae.ae", Destination: "pae.q"}, 0))
	if n := routed(t, v, "pae.src", "nowhere"); n != 0 {
		t.Fatalf("before the policy: routed to %d queues", n)
	}
	mustSetPolicy(t, v, UserPolicy, Policy{Name: "ae", Pattern: `^pae\.src$`, ApplyTo: "exchanges", Definition: map[string]any{"alternate-exchange": "pae.ae"}})
	if n := routed(t, v, "pae.src", "nowhere"); n != 1 {
		t.Fatalf("with the policy: routed to %d queues, want 1", n)
	}
	if _, err := v.DeletePolicy(UserPolicy, "ae"); err != nil {
		t.Fatal(err)
	}
	if n := routed(t, v, "pae.src", "nowhere"); n != 0 {
		t.Fatalf("after the policy: routed to %d queues", n)
	}
	// A policy naming a missing exchange routes nowhere and does not fail.
	mustSetPolicy(t, v, UserPolicy, Policy{Name: "ae", Pattern: `^pae\.src$`, ApplyTo: "exchanges", Definition: map[string]any{"alternate-exchange": "pae.missing"}})
	if n := routed(t, v, "pae.src", "nowhere"); n != 0 {
		t.Fatalf("missing alternate: routed to %d queues", n)
	}
}
