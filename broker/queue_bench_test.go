package broker

import (
	"fmt"
	"testing"
)

// ackingDeliverer takes every delivery and keeps its ticket for the
// benchmark to ack, as a consumer with an open window does.
type ackingDeliverer struct{ last Ticket }

func (d *ackingDeliverer) Reserve() bool { return true }
func (d *ackingDeliverer) Deliver(_ *Queue, _ *Consumer, t Ticket, _ Delivery, _ any) {
	d.last = t
}
func (d *ackingDeliverer) Cancelled(*Consumer) {}

// BenchmarkQueueCycle: the broker's share of one message's hot path, with no
// network: publish through the default exchange (lookup, append, dispatch
// to a waiting consumer) and ack.
func BenchmarkQueueCycle(b *testing.B) {
	for _, size := range []int{16, 1024} {
		for _, durable := range []bool{false, true} {
			b.Run(fmt.Sprintf("durable=%v/%dB", durable, size), func(b *testing.B) {
				br := openTestBroker(b)
				v, _ := br.VHost("/")
				q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "bench", Durable: durable})
				if err != nil {
					b.Fatal(err)
				}
				d := &ackingDeliverer{}
				if err := q.AddConsumer(&Consumer{Tag: "c", D: d}, nil); err != nil {
					b.Fatal(err)
				}
				m := Message{RoutingKey: []byte("bench"), Props: []byte{0, 0}, Body: make([]byte, size), Persistent: durable}
				var cache PublishCache
				var scratch []*Queue
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					var res PublishResult
					res, scratch, err = v.Publish(guest, &m, &cache, scratch)
					if err != nil || res.Routed != 1 {
						b.Fatal(res, err)
					}
					q.Ack(d.last)
				}
			})
		}
	}
}
