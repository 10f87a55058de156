package broker

import "testing"

func routed(t *testing.T, v *VHost, exchange, key string) int {
	t.Helper()
	m := Message{Exchange: []byte(exchange), RoutingKey: []byte(key), Props: []byte{0, 0}, Body: []byte("x")}
	res, _, err := v.Publish(guest, &m, &PublishCache{}, nil)
	if err != nil {
		t.Fatalf("publish to %q: %v", exchange, err)
	}
	return res.Routed
}

// Binding and unbinding queues and exchanges route as declared, and an
// auto-delete source goes when either kind of unbind removes its last
// binding.
func TestBindUnbind(t *testing.T) {
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "q"})
	must(err)
	must(v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "src", Type: "fanout", AutoDelete: true}))
	must(v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "dst", Type: "direct", AutoDelete: true}))

	must(v.QueueBind(guest, Binding{Source: "dst", Destination: "q", Key: "k"}, 0))
	must(v.ExchangeBind(guest, Binding{Source: "src", Destination: "dst"}))
	if n := routed(t, v, "src", "k"); n != 1 {
		t.Fatalf("src -> dst -> q routed to %d queues", n)
	}
	// A missing binding is not an error.
	must(v.QueueUnbind(guest, Binding{Source: "dst", Destination: "q", Key: "other"}, 0))
	must(v.ExchangeUnbind(guest, Binding{Source: "src", Destination: "dst", Key: "other"}))

	must(v.ExchangeUnbind(guest, Binding{Source: "src", Destination: "dst"}))
	if _, ok := v.Exchange("src"); ok {
		t.Fatal("auto-delete src survived losing its last binding to exchange.unbind")
	}
	if n := routed(t, v, "dst", "k"); n != 1 {
		t.Fatalf("dst -> q routed to %d queues", n)
	}
	must(v.QueueUnbind(guest, Binding{Source: "dst", Destination: "q", Key: "k"}, 0))
	if _, ok := v.Exchange("dst"); ok {
		t.Fatal("auto-delete dst survived losing its last binding to queue.unbind")
	}
}

// Durable bindings survive a restart and unbinds are saved too.
func TestBindingsSaved(t *testing.T) {
	dir := t.TempDir()
	open := func() (*Broker, *VHost) {
		b, err := Open(Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := b.VHost("/")
		return b, v
	}
	b, v := open()
	for _, q := range []string{"qa", "qb"} {
		if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: q, Durable: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, x := range []string{"a", "b"} {
		if err := v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: x, Type: "fanout", Durable: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, err := range []error{
		v.QueueBind(guest, Binding{Source: "a", Destination: "qa"}, 0),
		v.QueueBind(guest, Binding{Source: "b", Destination: "qb"}, 0),
		v.ExchangeBind(guest, Binding{Source: "a", Destination: "b"}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	b.Close()
	b, v = open()
	if n, m := routed(t, v, "a", ""), routed(t, v, "b", ""); n != 2 || m != 1 {
		t.Fatalf("after restart a routes to %d, b to %d queues", n, m)
	}
	// Each unbind is saved on its own.
	if err := v.ExchangeUnbind(guest, Binding{Source: "a", Destination: "b"}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	b, v = open()
	if n, m := routed(t, v, "a", ""), routed(t, v, "b", ""); n != 1 || m != 1 {
		t.Fatalf("after exchange.unbind and a restart a routes to %d, b to %d queues", n, m)
	}
	if err := v.QueueUnbind(guest, Binding{Source: "b", Destination: "qb"}, 0); err != nil {
		t.Fatal(err)
	}
	b.Close()
	b, v = open()
	defer b.Close()
	if n, m := routed(t, v, "a", ""), routed(t, v, "b", ""); n != 1 || m != 0 {
		t.Fatalf("after queue.unbind and a restart a routes to %d, b to %d queues", n, m)
	}
}
