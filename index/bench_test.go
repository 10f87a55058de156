package index

import (
	"fmt"
	"testing"

	"github.com/warrenmq/warren/segment"
)

// BenchmarkAck: in-order acks of records with 100 B and 1 KiB bodies, as a
// consumer keeping up produces them. "durable" writes the ack file; "lag"
// acks with a window of 64 in flight, acked out of order within it.
func BenchmarkAck(b *testing.B) {
	for _, body := range []int{100, 1024} {
		size := uint32(segment.RecordSize(&segment.Record{Exchange: []byte("amq.direct"), RoutingKey: []byte("key"), Body: make([]byte, body)}))
		for _, mode := range []string{"mem", "durable", "lag"} {
			b.Run(fmt.Sprintf("%s/%dB", mode, body), func(b *testing.B) {
				x := openIdx(b, b.TempDir(), mode != "mem")
				defer x.Close()
				perSeg := int(segment.DefaultSegmentSize / size)
				seg := uint32(1)
				seed(x, seg, perSeg)
				b.SetBytes(int64(body))
				b.ReportAllocs()
				b.ResetTimer()
				for i, k := 0, 0; i < b.N; i, k = i+1, k+1 {
					if k == perSeg {
						b.StopTimer()
						x.Drop(seg)
						seg++
						seed(x, seg, perSeg)
						k = 0
						b.StartTimer()
					}
					j := k
					if mode == "lag" {
						j = k ^ 63 // reverse order within each block of 64
						if j >= perSeg {
							j = k
						}
					}
					p := segment.Pos{Seg: seg, Off: segment.DataStart + uint32(j)*size}
					if _, err := x.Ack(p, size, uint32(body), true); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}
