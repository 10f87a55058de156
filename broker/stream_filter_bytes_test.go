package broker

import (
	"fmt"
	"testing"

	"github.com/warrenmq/warren/frame"
)

// filteredBytes reads stream s whole through a reader filtered on
// "rare" and returns the messages it got, the bytes it read (its own
// count: the page cache is shared and cannot be dropped here) and the
// stream's bytes.
func filteredBytes(t *testing.T, s *Stream, total int) (got int, read, size uint64) {
	t.Helper()
	all, _ := s.NewReader(OffsetSpec{Kind: OffsetFirst}, ReaderOptions{})
	readAll(t, all, total) // every chunk committed
	if all.BytesRead() == 0 {
		t.Fatal("an unfiltered reader counted no bytes")
	}
	all.Close()
	r, _ := s.NewReader(OffsetSpec{Kind: OffsetFirst}, ReaderOptions{Filter: [][]byte{[]byte("rare")}})
	defer r.Close()
	for {
		c, ok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			if r.NextOffset() >= uint64(total) {
				break
			}
			continue // the skip budget ran out: call again
		}
		got += int(c.Records)
	}
	return got, r.BytesRead(), uint64(s.Stats().Bytes)
}

// A reader filtering on a value 1% of a stream's messages carry reads the
// chunks holding them and the headers of the rest: for stream-protocol
// chunks (batches of a publish frame) that is under 5% of the stream.
func TestStreamFilterReadsFewBytesStreamProtocol(t *testing.T) {
	b, v := openStreamBroker(t, t.TempDir())
	defer b.Close()
	s, _, err := v.DeclareStream(nil, "s", StreamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	const chunks, per = 500, 100 // 50,000 messages of ~130 B, 100 a chunk
	for i := range chunks {
		var f FilterSummary
		if i%100 == 7 {
			f.Add([]byte("rare")) // 5 chunks: 1% of the messages
		} else {
			f.Add([]byte(fmt.Sprint("common-", i%7)))
		}
		if _, _, err := s.AppendChunk(&ChunkIn{Encoding: EncodingAMQP10, Entries: per, Records: per, Filter: f, Data: make([]byte, per*130)}); err != nil {
			t.Fatal(err)
		}
	}
	got, read, size := filteredBytes(t, s, chunks*per)
	t.Logf("stream protocol: %d of %d messages, read %d of %d bytes (%.2f%%)", got, chunks*per, read, size, 100*float64(read)/float64(size))
	if got != chunks*per/100 || read*20 > size {
		t.Fatalf("got %d messages (want %d), read %d of %d bytes (more than 5%%)", got, chunks*per/100, read, size)
	}
}

// Over AMQP 0-9-1 each message is a chunk with its own summary from
// x-stream-filter-value: the filtered reader reads the 1% whole and only
// the record and chunk headers of the others (64 bytes each).
func TestStreamFilterReadsFewBytesAMQP091(t *testing.T) {
	b, v := openStreamBroker(t, t.TempDir())
	defer b.Close()
	if _, _, err := v.DeclareStream(nil, "s", StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	s, err := v.Stream("s")
	if err != nil {
		t.Fatal(err)
	}
	const n, body = 5000, 1024
	var rareBytes uint64
	for i := range n {
		val := fmt.Sprint("common-", i%7)
		if i%100 == 3 {
			val = "rare"
		}
		props := frame.AppendProperties(nil, &frame.Properties{Headers: frame.Table{"x-stream-filter-value": val}})
		before := uint64(s.Stats().Bytes)
		if _, _, err := v.Publish(guest, &Message{RoutingKey: []byte("s"), Props: props, Body: make([]byte, body), Persistent: true}, &PublishCache{}, nil); err != nil {
			t.Fatal(err)
		}
		if val == "rare" {
			rareBytes += uint64(s.Stats().Bytes) - before
		}
	}
	got, read, size := filteredBytes(t, s, n)
	t.Logf("AMQP 0-9-1, %d B bodies: %d of %d messages, read %d of %d bytes (%.2f%%)", body, got, n, read, size, 100*float64(read)/float64(size))
	head := uint64(64) // segment.HeaderSize + chunkHeaderSize
	if got != n/100 || read != rareBytes+uint64(n-n/100)*head {
		t.Fatalf("got %d messages (want %d), read %d bytes, want the rare ones' %d and %d bytes of headers for each of the rest", got, n/100, read, rareBytes, head)
	}
}
