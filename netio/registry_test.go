package netio_test

import (
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/broker"
)

// registered finds the registry entry of the connection dialled with
// connection_name cn.
func registered(t *testing.T, reg *broker.Registry, cn string) *broker.ConnEntry {
	t.Helper()
	var found *broker.ConnEntry
	eventually(t, func() bool {
		for _, e := range reg.Conns() {
			if e.Info.ClientProperties["connection_name"] == cn {
				found = e
				return true
			}
		}
		return false
	}, "connection %q in the registry", cn)
	return found
}

// The registry lists an open connection with who and where it is, its
// channels and consumers, and counts its traffic; closing it from the
// registry closes the client's connection with 320 CONNECTION_FORCED and the
// reason, as RabbitMQ's management close does ("CONNECTION_FORCED - reason",
// checked with rabbitmqctl close_connection on RabbitMQ 3.10).
func TestRegistryListsAndCloses(t *testing.T) {
	needLocal(t)
	reg := shared.b.Registry()
	cn := name(t, "conn")
	c, err := dialConfig(t, amqp.Config{Properties: amqp.Table{"connection_name": cn}})
	if err != nil {
		t.Fatal(err)
	}
	closes := c.NotifyClose(make(chan *amqp.Error, 1))
	ch := channel(t, c)
	q := declareQueue(t, ch, "q")
	ds := consume(t, ch, q, "registry-ctag", false)
	for i := 0; i < 3; i++ {
		publishText(t, ch, "", q, "m")
	}
	for i := 0; i < 3; i++ {
		d := recv(t, ds)
		if err := d.Ack(false); err != nil {
			t.Fatal(err)
		}
	}

	e := registered(t, reg, cn)
	if e.Info.User != "guest" || e.Info.VHost != "/" {
		t.Errorf("user %q vhost %q, want guest and /", e.Info.User, e.Info.VHost)
	}
	if e.Info.Peer != c.LocalAddr().String() {
		t.Errorf("peer %q, want the client's address %q", e.Info.Peer, c.LocalAddr())
	}
	if e.Info.Local != amqpAddr {
		t.Errorf("local %q, want %q", e.Info.Local, amqpAddr)
	}
	if age := time.Since(e.Info.ConnectedAt); age < 0 || age > time.Minute {
		t.Errorf("connected at %v, %v ago", e.Info.ConnectedAt, age)
	}
	if got, ok := reg.Conn(e.Info.ID); !ok || got != e {
		t.Errorf("Conn(%d) = %v, %v", e.Info.ID, got, ok)
	}
	chans := e.Channels()
	if len(chans) != 1 || chans[0].Number != 1 {
		t.Fatalf("channels %v, want channel 1 alone", chans)
	}
	cs := chans[0].Consumers()
	if len(cs) != 1 || cs[0].Tag != "registry-ctag" || cs[0].Queue.Name != q || cs[0].NoAck {
		t.Fatalf("consumers %+v, want registry-ctag on %s", cs, q)
	}
	st := chans[0]
	eventually(t, func() bool {
		return st.Published.Load() == 3 && st.DeliveredCount() == 3 && st.Acked.Load() == 3
	}, "published/delivered/acked 3/3/3, have %d/%d/%d", st.Published.Load(), st.DeliveredCount(), st.Acked.Load())
	if e.BytesIn.Load() == 0 || e.BytesOut.Load() == 0 {
		t.Errorf("bytes in %d out %d, want both counted", e.BytesIn.Load(), e.BytesOut.Load())
	}

	// Cancelling and closing take the consumer and the channel off the lists.
	if err := ch.Cancel("registry-ctag", false); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool { return len(st.Consumers()) == 0 }, "the cancelled consumer to leave the registry")
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool { return len(e.Channels()) == 0 }, "the closed channel to leave the registry")

	e.Close("closed by the registry test")
	got := waitClosed(t, closes, 320, "connection closed from the registry")
	if want := "CONNECTION_FORCED - closed by the registry test"; got.Reason != want {
		t.Errorf("reason %q, want %q", got.Reason, want)
	}
	eventually(t, func() bool { _, ok := reg.Conn(e.Info.ID); return !ok }, "the closed connection to leave the registry")
}

// A connection that never got through connection.open is not listed.
func TestRegistrySkipsUnopened(t *testing.T) {
	needLocal(t)
	reg := shared.b.Registry()
	before := map[uint64]bool{}
	for _, e := range reg.Conns() {
		before[e.Info.ID] = true
	}
	r := dialRaw(t)
	r.write([]byte("AMQP\x00\x00\x09\x01"))
	r.expect(0, 10, 10) // connection.start
	for _, e := range reg.Conns() {
		if !before[e.Info.ID] && e.Info.Peer == r.nc.LocalAddr().String() {
			t.Fatalf("connection %d listed before it opened", e.Info.ID)
		}
	}
}
