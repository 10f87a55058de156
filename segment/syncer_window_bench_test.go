package segment

import (
	"fmt"
	"testing"
)

// BenchmarkSyncerWindow is one publisher with a confirm window against the
// syncer alone: it appends persistent 16 B records in bursts (as socket
// reads deliver them) while fewer than window wait, and waits for the
// oldest one's generation otherwise. records/s is what the fdatasync round
// trip allows one publisher (the broker's case 3s without the network and
// the broker around it); records/fdatasync is group commit's batch.
func BenchmarkSyncerWindow(b *testing.B) {
	for _, overlap := range []uint32{0, overlapMarks} {
		b.Run(fmt.Sprintf("overlap=%d", overlap), func(b *testing.B) {
			s := NewSyncer()
			defer s.Close()
			s.overlap = overlap
			moved := make(chan struct{}, 1)
			defer s.Subscribe(func(uint64) {
				select {
				case moved <- struct{}{}:
				default:
				}
			})()
			l, _ := openLog(b, b.TempDir(), Options{Durable: true, Syncer: s})
			r := testRecord(1, body(1, 16))
			const window, burst = 256, 32
			gens := make([]uint64, 0, 2*window) // of the records in flight, oldest first
			b.ResetTimer()
			for i := 0; i < b.N; {
				for k := 0; k < burst && len(gens) < window && i < b.N; k++ {
					_, _, g, err := l.Append(r)
					if err != nil {
						b.Fatal(err)
					}
					gens = append(gens, g)
					i++
				}
				for len(gens) == window || (i == b.N && len(gens) > 0) {
					done := s.Done()
					n := 0
					for n < len(gens) && gens[n] <= done {
						n++
					}
					gens = gens[:copy(gens, gens[n:])]
					if n == 0 {
						<-moved
					}
				}
			}
			b.StopTimer()
			_, syncs := s.Stats()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(b.N)/float64(max(syncs, 1)), "records/fdatasync")
		})
	}
}
