package segment

import (
	"errors"
	"fmt"
	"testing"
)

var benchSizes = []int{100, 1024}

func reportRecords(b *testing.B) {
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkAppend: one record per op into 8 MiB segments, segment
// rotation included. "sync" marks each record dirty in a Syncer (whose
// fdatasyncs run on their own goroutine and are not waited for here).
func BenchmarkAppend(b *testing.B) {
	for _, size := range benchSizes {
		for _, mode := range []string{"mem", "durable", "sync"} {
			b.Run(fmt.Sprintf("%s/%dB", mode, size), func(b *testing.B) {
				o := Options{Durable: mode != "mem"}
				if mode == "sync" {
					s := NewSyncer()
					defer s.Close()
					o.Syncer = s
				}
				l, _ := openLog(b, b.TempDir(), o)
				r := testRecord(1, body(1, size))
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if _, _, _, err := l.Append(r); err != nil {
						b.Fatal(err)
					}
				}
				reportRecords(b)
			})
		}
	}
}

// BenchmarkRead: sequential Next over 64 MiB of records, wrapping around;
// Read is the same decode at a known position.
func BenchmarkRead(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			l, _ := openLog(b, b.TempDir(), Options{Durable: true})
			r := testRecord(1, body(1, size))
			for range (64 << 20) / RecordSize(r) {
				if _, _, _, err := l.Append(r); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			p := Pos{}
			var sum int
			for range b.N {
				q, rec, n, err := l.Next(p)
				if errors.Is(err, ErrEnd) {
					q, rec, n, err = l.Next(Pos{})
				}
				if err != nil {
					b.Fatal(err)
				}
				sum += len(rec.Body)
				p = Pos{q.Seg, q.Off + n}
			}
			reportRecords(b)
			_ = sum
		})
	}
}
