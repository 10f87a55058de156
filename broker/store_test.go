package broker

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/warrenmq/warren/segment"
)

// A message goes through a store as a queue calls it (append, next, requeue,
// next, ack) and comes out with every field a delivery carries.
func TestStoreDeliveryFields(t *testing.T) {
	sy := segment.NewSyncer()
	defer sy.Close()
	for _, durable := range []bool{false, true} {
		for _, persistent := range []bool{false, true} {
			t.Run(fmt.Sprintf("durable=%v/persistent=%v", durable, persistent), func(t *testing.T) {
				var s store = openTestStore(t, t.TempDir(), storeOptions{Durable: durable, Syncer: sy})
				m := Message{Exchange: []byte("ex"), RoutingKey: []byte("a.b"), Props: []byte{0x10, 0, 2},
					Body: []byte("hello"), Persistent: persistent, Timestamp: 1_700_000_000_123}
				gen, err := s.append(m)
				if err != nil {
					t.Fatal(err)
				}
				if wantGen := durable && persistent; (gen > 0) != wantGen {
					t.Fatalf("commit generation %d, want one: %v", gen, wantGen)
				}
				check := func(d Delivery, redelivered bool) {
					t.Helper()
					if !bytes.Equal(d.Exchange, m.Exchange) || !bytes.Equal(d.RoutingKey, m.RoutingKey) ||
						!bytes.Equal(d.Props, m.Props) || !bytes.Equal(d.Body, m.Body) ||
						d.Timestamp != m.Timestamp || d.Persistent != persistent || d.Redelivered != redelivered {
						t.Fatalf("delivery %+v (redelivered want %v) from %+v", d, redelivered, m)
					}
				}
				tk, d, ok := s.next()
				if !ok {
					t.Fatal("nothing ready")
				}
				check(d, false)
				s.requeue(tk)
				if s.readyCount() != 1 {
					t.Fatalf("ready %d after requeue", s.readyCount())
				}
				tk, d, ok = s.next()
				if !ok {
					t.Fatal("requeued message not ready")
				}
				check(d, true)
				if err := s.ack(tk); err != nil {
					t.Fatal(err)
				}
				if _, _, ok := s.next(); ok || s.readyCount() != 0 {
					t.Fatal("acked message still there")
				}
			})
		}
	}
}
