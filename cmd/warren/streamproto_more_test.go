//go:build linux

package main

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/amqp"
	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/message"
	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/stream"
)

func withIDs(prefix string, from, to int64) []message.StreamMessage {
	var out []message.StreamMessage
	for id := from; id <= to; id++ {
		m := amqp.NewMessage([]byte(fmt.Sprintf("%s-%d", prefix, id)))
		m.SetPublishingId(id)
		out = append(out, m)
	}
	return out
}

func spConsumeAll(t *testing.T, env *stream.Environment, name string, spec stream.OffsetSpecification, n int) *got {
	t.Helper()
	var g got
	c, err := env.NewConsumer(name, g.handler, stream.NewConsumerOptions().SetOffset(spec))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	g.wait(t, n)
	return &g
}

// Deduplication: a named producer's publishing ids at or below the
// stored sequence are confirmed and dropped, across a reconnect and a
// restart of the broker.
func TestStreamProtoDedupAcrossReconnect(t *testing.T) {
	dir := t.TempDir() + "/data"
	w := startStreamWarren(t, dir)
	env := w.env(t)
	const name = "s-dedup"
	if err := env.DeclareStream(name, nil); err != nil {
		t.Fatal(err)
	}
	p, err := env.NewProducer(name, stream.NewProducerOptions().SetProducerName("p1"))
	if err != nil {
		t.Fatal(err)
	}
	publishConfirmed(t, p, withIDs("m", 1, 100))
	_ = p.Close()
	_ = env.Close()

	env = w.env(t)
	if seq, err := env.QuerySequence("p1", name); err != nil || seq != 100 {
		t.Fatalf("sequence after reconnect %d %v", seq, err)
	}
	if seq, err := env.QuerySequence("nobody", name); err != nil || seq != 0 {
		t.Fatalf("sequence of an unknown producer %d %v", seq, err)
	}
	p, err = env.NewProducer(name, stream.NewProducerOptions().SetProducerName("p1"))
	if err != nil {
		t.Fatal(err)
	}
	publishConfirmed(t, p, withIDs("m", 51, 150)) // 51..100 again: duplicates, confirmed

	g := spConsumeAll(t, env, name, stream.OffsetSpecification{}.First(), 150)
	time.Sleep(300 * time.Millisecond) // nothing more may come
	g.mu.Lock()
	if len(g.body) != 150 {
		t.Fatalf("%d messages stored, want 150", len(g.body))
	}
	for i, b := range g.body {
		if b != fmt.Sprintf("m-%d", i+1) || g.offs[i] != int64(i) {
			t.Fatalf("offset %d: %q", g.offs[i], b)
		}
	}
	g.mu.Unlock()

	// The sequence is in the chunks: it survives a kill -9 with the
	// producer still open (the checkpoint says 100; the chunks after it 150).
	w.signal(syscall.SIGKILL, 10*time.Second)
	w2 := startStreamWarren(t, dir)
	env = w2.env(t)
	if seq, err := env.QuerySequence("p1", name); err != nil || seq != 150 {
		t.Fatalf("sequence after restart %d %v", seq, err)
	}
}

// Each offset specification starts where RabbitMQ starts.
func TestStreamProtoOffsetSpecs(t *testing.T) {
	w := startStreamWarren(t, t.TempDir()+"/data")
	env := w.env(t)
	const name = "s-offsets"
	if err := env.DeclareStream(name, nil); err != nil {
		t.Fatal(err)
	}
	p, err := env.NewProducer(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	// BatchSend: one frame, one chunk each.
	batch := func(prefix string, n int) {
		ch := p.NotifyPublishConfirmation()
		_ = ch
		if err := p.BatchSend(bodies(prefix, n)); err != nil {
			t.Fatal(err)
		}
	}
	batch("a", 100)
	spWait(10*time.Second, func() bool { s, _ := env.StreamStats(name); c, _ := s.CommittedChunkId(); return c >= 0 })
	time.Sleep(50 * time.Millisecond)
	mid := time.Now()
	time.Sleep(50 * time.Millisecond)
	batch("b", 100)
	if !spWait(10*time.Second, func() bool { s, _ := env.StreamStats(name); c, _ := s.CommittedChunkId(); return c == 100 }) {
		t.Fatal("second chunk not committed at offset 100")
	}

	g := spConsumeAll(t, env, name, stream.OffsetSpecification{}.First(), 200)
	if g.offs[0] != 0 || g.body[0] != "a-0" {
		t.Fatalf("first: %d %q", g.offs[0], g.body[0])
	}
	g = spConsumeAll(t, env, name, stream.OffsetSpecification{}.Offset(150), 50)
	if g.offs[0] != 150 || g.body[0] != "b-50" {
		t.Fatalf("offset 150: %d %q", g.offs[0], g.body[0])
	}
	g = spConsumeAll(t, env, name, stream.OffsetSpecification{}.Last(), 100)
	if g.offs[0] != 100 || g.body[0] != "b-0" {
		t.Fatalf("last: %d %q", g.offs[0], g.body[0])
	}
	g = spConsumeAll(t, env, name, stream.OffsetSpecification{}.Timestamp(mid.UnixMilli()), 100)
	if g.offs[0] != 100 || g.body[0] != "b-0" {
		t.Fatalf("timestamp: %d %q", g.offs[0], g.body[0])
	}
	var next got
	c, err := env.NewConsumer(name, next.handler, stream.NewConsumerOptions().SetOffset(stream.OffsetSpecification{}.Next()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(200 * time.Millisecond)
	if next.n() != 0 {
		t.Fatalf("next got %d old messages", next.n())
	}
	batch("c", 10)
	next.wait(t, 10)
	if next.offs[0] != 200 || next.body[0] != "c-0" {
		t.Fatalf("next: %d %q", next.offs[0], next.body[0])
	}
}

// Server-side offset tracking: store, query, resume, across a restart.
func TestStreamProtoOffsetTracking(t *testing.T) {
	dir := t.TempDir() + "/data"
	w := startStreamWarren(t, dir)
	env := w.env(t)
	const name = "s-track"
	if err := env.DeclareStream(name, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := env.QueryOffset("c1", name); !errors.Is(err, stream.OffsetNotFoundError) {
		t.Fatalf("query before store: %v", err)
	}
	p, err := env.NewProducer(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	publishConfirmed(t, p, bodies("m", 100))
	var g got
	var stored atomic.Bool
	c, err := env.NewConsumer(name, func(ctx stream.ConsumerContext, m *amqp.Message) {
		g.handler(ctx, m)
		if ctx.Consumer.GetOffset() == 59 && stored.CompareAndSwap(false, true) {
			if err := ctx.Consumer.StoreOffset(); err != nil {
				t.Error(err)
			}
		}
	}, stream.NewConsumerOptions().SetOffset(stream.OffsetSpecification{}.First()).SetConsumerName("c1").SetManualCommit())
	if err != nil {
		t.Fatal(err)
	}
	g.wait(t, 100)
	if !spWait(10*time.Second, func() bool { o, err := env.QueryOffset("c1", name); return err == nil && o == 59 }) {
		o, err := env.QueryOffset("c1", name)
		t.Fatalf("stored offset %d %v", o, err)
	}
	_ = c.Close()
	o, err := env.QueryOffset("c1", name)
	if err != nil {
		t.Fatal(err)
	}
	if g2 := spConsumeAll(t, env, name, stream.OffsetSpecification{}.Offset(o+1), 40); g2.offs[0] != 60 {
		t.Fatalf("resumed at %d", g2.offs[0])
	}
	_ = env.Close()

	// kill -9: a stored offset is durable once stored (issue 18's
	// acceptance: a reader resumes from its stored offset after it).
	w.signal(syscall.SIGKILL, 10*time.Second)
	w2 := startStreamWarren(t, dir)
	env = w2.env(t)
	if o, err := env.QueryOffset("c1", name); err != nil || o != 59 {
		t.Fatalf("stored offset after restart %d %v", o, err)
	}
	g3 := spConsumeAll(t, env, name, stream.OffsetSpecification{}.Offset(59), 41)
	if g3.offs[0] != 59 || g3.body[0] != "m-59" {
		t.Fatalf("resumed at %d %q", g3.offs[0], g3.body[0])
	}
}

// A super stream of 3 partitions: an exchange and 3 streams, route and
// partitions as RabbitMQ answers them.
func TestStreamProtoSuperStream(t *testing.T) {
	w := startStreamWarren(t, t.TempDir()+"/data")
	env := w.env(t)
	const super = "orders"
	if err := env.DeclareSuperStream(super, stream.NewPartitionsOptions(3)); err != nil {
		t.Fatal(err)
	}
	parts, err := env.QueryPartitions(super)
	if err != nil || !slices.Equal(parts, []string{"orders-0", "orders-1", "orders-2"}) {
		t.Fatalf("partitions %v %v", parts, err)
	}
	if r, err := env.QueryRoute(super, "1"); err != nil || !slices.Equal(r, []string{"orders-1"}) {
		t.Fatalf("route 1: %v %v", r, err)
	}
	if r, err := env.QueryRoute(super, "nope"); err != nil || len(r) != 0 {
		t.Fatalf("route nope: %v %v", r, err)
	}
	// The exchange is visible over 0-9-1 too: publishing with key 2 lands in orders-2.
	key := func(m message.StreamMessage) string { return m.GetApplicationProperties()["k"].(string) }
	sp, err := env.NewSuperStreamProducer(super, stream.NewSuperStreamProducerOptions(stream.NewKeyRoutingStrategy(key)))
	if err != nil {
		t.Fatal(err)
	}
	confirms := sp.NotifyPublishConfirmation(1)
	var confirmed atomic.Int64
	go func() {
		for c := range confirms {
			for _, st := range c.ConfirmationStatus {
				if st.IsConfirmed() {
					confirmed.Add(1)
				}
			}
		}
	}()
	for i := range 90 {
		m := amqp.NewMessage([]byte(fmt.Sprintf("o-%d", i)))
		m.ApplicationProperties = map[string]any{"k": fmt.Sprint(i % 3)}
		if err := sp.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	if !spWait(30*time.Second, func() bool { return confirmed.Load() == 90 }) {
		t.Fatalf("confirmed %d of 90", confirmed.Load())
	}
	_ = sp.Close()
	for i, part := range parts {
		g := spConsumeAll(t, env, part, stream.OffsetSpecification{}.First(), 30)
		for j, b := range g.body {
			if b != fmt.Sprintf("o-%d", 3*j+i) {
				t.Fatalf("%s[%d] = %q", part, j, b)
			}
		}
	}
	var all atomic.Int64
	sc, err := env.NewSuperStreamConsumer(super, func(stream.ConsumerContext, *amqp.Message) { all.Add(1) },
		stream.NewSuperStreamConsumerOptions().SetOffset(stream.OffsetSpecification{}.First()))
	if err != nil {
		t.Fatal(err)
	}
	if !spWait(30*time.Second, func() bool { return all.Load() == 90 }) {
		t.Fatalf("super stream consumer got %d of 90", all.Load())
	}
	_ = sc.Close()
	if err := env.DeleteSuperStream(super); err != nil {
		t.Fatal(err)
	}
	if ok, _ := env.StreamExists("orders-1"); ok {
		t.Fatal("partition left after delete")
	}
}

// Single active consumer: one of two same-named consumers delivers; when
// it goes, the other is promoted and resumes after the stored offset.
func TestStreamProtoSingleActiveConsumerFailover(t *testing.T) {
	w := startStreamWarren(t, t.TempDir()+"/data")
	env := w.env(t)
	const name = "s-sac"
	if err := env.DeclareStream(name, nil); err != nil {
		t.Fatal(err)
	}
	p, err := env.NewProducer(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	publishConfirmed(t, p, bodies("m", 100))
	var mu sync.Mutex
	var updates []string
	update := func(who string) stream.ConsumerUpdate {
		return func(s string, active bool) stream.OffsetSpecification {
			mu.Lock()
			updates = append(updates, fmt.Sprintf("%s:%v", who, active))
			mu.Unlock()
			o, err := env.QueryOffset("g", s)
			if err != nil {
				return stream.OffsetSpecification{}.First()
			}
			return stream.OffsetSpecification{}.Offset(o + 1)
		}
	}
	opts := func(who string) *stream.ConsumerOptions {
		return stream.NewConsumerOptions().SetConsumerName("g").SetManualCommit().
			SetSingleActiveConsumer(stream.NewSingleActiveConsumer(update(who)))
	}
	var a, b got
	ca, err := env.NewConsumer(name, func(ctx stream.ConsumerContext, m *amqp.Message) {
		a.handler(ctx, m)
		if ctx.Consumer.GetOffset() == 99 {
			_ = ctx.Consumer.StoreOffset()
		}
	}, opts("a"))
	if err != nil {
		t.Fatal(err)
	}
	a.wait(t, 100)
	cb, err := env.NewConsumer(name, b.handler, opts("b"))
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	if !spWait(10*time.Second, func() bool { o, err := env.QueryOffset("g", name); return err == nil && o == 99 }) {
		t.Fatal("offset 99 not stored")
	}
	time.Sleep(300 * time.Millisecond)
	if b.n() != 0 {
		t.Fatalf("inactive consumer got %d messages", b.n())
	}
	_ = ca.Close()
	if !spWait(10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(updates, "b:true")
	}) {
		t.Fatalf("b not promoted; updates %v", updates)
	}
	publishConfirmed(t, p, bodies("n", 50))
	b.wait(t, 50)
	time.Sleep(200 * time.Millisecond)
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.body) != 50 || b.offs[0] != 100 || b.body[0] != "n-0" {
		t.Fatalf("promoted consumer got %d, first %d %q", len(b.body), b.offs[0], b.body[0])
	}
	mu.Lock()
	defer mu.Unlock()
	if updates[0] != "a:true" {
		t.Fatalf("updates %v", updates)
	}
}

// Sub-entry batches are stored as the client compressed them and read
// back by the stream client and, decompressed, over AMQP 0-9-1.
func TestStreamProtoSubEntryCompression(t *testing.T) {
	w := startStreamWarren(t, t.TempDir()+"/data")
	env := w.env(t)
	conn, err := amqp091.Dial(w.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, cc := range []struct {
		name string
		c    stream.Compression
	}{
		{"none", stream.Compression{}.None()},
		{"gzip", stream.Compression{}.Gzip()},
		{"zstd", stream.Compression{}.Zstd()},
		{"snappy", stream.Compression{}.Snappy()},
		{"lz4", stream.Compression{}.Lz4()},
	} {
		t.Run(cc.name, func(t *testing.T) {
			name := "s-sub-" + cc.name
			if err := env.DeclareStream(name, nil); err != nil {
				t.Fatal(err)
			}
			p, err := env.NewProducer(name, stream.NewProducerOptions().SetSubEntrySize(50).SetCompression(cc.c))
			if err != nil {
				t.Fatal(err)
			}
			publishConfirmed(t, p, bodies(cc.name, 500))
			_ = p.Close()
			g := spConsumeAll(t, env, name, stream.OffsetSpecification{}.First(), 500)
			for i := range 500 {
				if g.body[i] != fmt.Sprintf("%s-%d", cc.name, i) || g.offs[i] != int64(i) {
					t.Fatalf("%d: %q at %d", i, g.body[i], g.offs[i])
				}
			}
			got091 := read091(t, conn, name, 500)
			for i, d := range got091 {
				if string(d.Body) != fmt.Sprintf("%s-%d", cc.name, i) || d.Headers["x-stream-offset"] != int64(i) {
					t.Fatalf("0-9-1 %d: %q at %v", i, d.Body, d.Headers["x-stream-offset"])
				}
			}
		})
	}
}

func read091(t *testing.T, conn *amqp091.Connection, name string, n int) []amqp091.Delivery {
	t.Helper()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	if err := ch.Qos(100, 0, false); err != nil {
		t.Fatal(err)
	}
	ds, err := ch.Consume(name, "", false, false, false, false, amqp091.Table{"x-stream-offset": "first"})
	if err != nil {
		t.Fatal(err)
	}
	var out []amqp091.Delivery
	timeout := time.After(60 * time.Second)
	for len(out) < n {
		select {
		case d, ok := <-ds:
			if !ok {
				t.Fatalf("0-9-1 consumer closed after %d", len(out))
			}
			out = append(out, d)
			_ = d.Ack(false)
		case <-timeout:
			t.Fatalf("0-9-1 read %d of %d", len(out), n)
		}
	}
	return out
}

// One stream read over AMQP 0-9-1 and over the stream protocol gives the
// same messages at the same offsets, whichever protocol wrote them.
func TestStreamProtoSameOver091(t *testing.T) {
	w := startStreamWarren(t, t.TempDir()+"/data")
	env := w.env(t)
	const name = "s-both"
	conn, err := amqp091.Dial(w.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(name, true, false, false, false, amqp091.Table{"x-queue-type": "stream"}); err != nil {
		t.Fatal(err)
	}
	p, err := env.NewProducer(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []message.StreamMessage
	for i := range 10 {
		m := amqp.NewMessage([]byte(fmt.Sprintf("sp-%d", i)))
		m.Properties = &amqp.MessageProperties{MessageID: fmt.Sprintf("id-%d", i), ContentType: "text/plain"}
		m.ApplicationProperties = map[string]any{"n": int64(i), "who": "stream"}
		msgs = append(msgs, m)
	}
	publishConfirmed(t, p, msgs)
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		dc, err := ch.PublishWithDeferredConfirm("", name, false, false, amqp091.Publishing{
			Body: []byte(fmt.Sprintf("amqp-%d", i)), MessageId: fmt.Sprintf("q-%d", i), ContentType: "application/x",
			DeliveryMode: 2, Headers: amqp091.Table{"who": "amqp", "n": int32(i)}})
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := dc.WaitContext(t.Context()); !ok || err != nil {
			t.Fatalf("0-9-1 confirm %v %v", ok, err)
		}
	}
	over091 := read091(t, conn, name, 20)
	var sg struct {
		sync.Mutex
		ms   []*amqp.Message
		offs []int64
	}
	c, err := env.NewConsumer(name, func(ctx stream.ConsumerContext, m *amqp.Message) {
		sg.Lock()
		sg.ms = append(sg.ms, m)
		sg.offs = append(sg.offs, ctx.Consumer.GetOffset())
		sg.Unlock()
	}, stream.NewConsumerOptions().SetOffset(stream.OffsetSpecification{}.First()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !spWait(30*time.Second, func() bool { sg.Lock(); defer sg.Unlock(); return len(sg.ms) >= 20 }) {
		t.Fatalf("stream protocol read %d of 20", len(sg.ms))
	}
	sg.Lock()
	defer sg.Unlock()
	for i := range 20 {
		d, m := over091[i], sg.ms[i]
		if d.Headers["x-stream-offset"] != int64(i) || sg.offs[i] != int64(i) {
			t.Fatalf("%d: offsets %v / %d", i, d.Headers["x-stream-offset"], sg.offs[i])
		}
		if string(d.Body) != string(m.GetData()) {
			t.Fatalf("%d: bodies %q / %q", i, d.Body, m.GetData())
		}
		if m.Properties == nil || d.MessageId != m.Properties.MessageID.(string) || d.ContentType != m.Properties.ContentType {
			t.Fatalf("%d: properties %q %q / %+v", i, d.MessageId, d.ContentType, m.Properties)
		}
		if fmt.Sprint(d.Headers["who"]) != fmt.Sprint(m.ApplicationProperties["who"]) ||
			fmt.Sprint(d.Headers["n"]) != fmt.Sprint(m.ApplicationProperties["n"]) {
			t.Fatalf("%d: headers %v / %v", i, d.Headers, m.ApplicationProperties)
		}
	}
	if string(over091[0].Body) != "sp-0" || string(over091[10].Body) != "amqp-0" || over091[10].DeliveryMode != 2 {
		t.Fatalf("order: %q %q mode %d", over091[0].Body, over091[10].Body, over091[10].DeliveryMode)
	}
}

// Filtering a stream published over the stream protocol with a producer
// filter: a 0-9-1 consumer with x-stream-filter and a stream-protocol
// consumer with a filter get the same messages at the same offsets (the
// 0-9-1 side filters each message on its x-stream-filter-value
// application property).
func TestStreamProtoFilterSameOver091(t *testing.T) {
	w := startStreamWarren(t, t.TempDir()+"/data")
	env := w.env(t)
	const name = "s-filter"
	if err := env.DeclareStream(name, nil); err != nil {
		t.Fatal(err)
	}
	value := func(i int) string {
		if i%1000 >= 400 && i%1000 < 430 {
			return "rare"
		}
		return fmt.Sprint("common-", i%3)
	}
	p, err := env.NewProducer(name, stream.NewProducerOptions().SetFilter(stream.NewProducerFilter(func(m message.StreamMessage) string {
		v, _ := m.GetApplicationProperties()["x-stream-filter-value"].(string)
		return v
	})))
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	var msgs []message.StreamMessage
	var want []string
	for i := range n {
		m := amqp.NewMessage([]byte(fmt.Sprint("m-", i)))
		m.ApplicationProperties = map[string]any{"x-stream-filter-value": value(i)}
		msgs = append(msgs, m)
		if value(i) == "rare" {
			want = append(want, fmt.Sprintf("m-%d@%d", i, i))
		}
	}
	publishConfirmed(t, p, msgs)

	conn, ds := consumeStream091(t, w.url, name, "", 100, amqp091.Table{"x-stream-offset": "first", "x-stream-filter": "rare"})
	defer conn.Close()
	var over091 []string
	for len(over091) < len(want) {
		select {
		case d := <-ds:
			over091 = append(over091, fmt.Sprintf("%s@%d", d.Body, d.Headers["x-stream-offset"]))
			_ = d.Ack(false)
		case <-time.After(20 * time.Second):
			t.Fatalf("0-9-1 filtered consumer got %d of %d", len(over091), len(want))
		}
	}
	select {
	case d := <-ds:
		t.Fatalf("0-9-1 filtered consumer got one more: %s", d.Body)
	case <-time.After(300 * time.Millisecond):
	}

	var sg struct {
		sync.Mutex
		got []string
	}
	rare := func(m *amqp.Message) bool { return m.ApplicationProperties["x-stream-filter-value"] == "rare" }
	c, err := env.NewConsumer(name, func(ctx stream.ConsumerContext, m *amqp.Message) {
		sg.Lock()
		sg.got = append(sg.got, fmt.Sprintf("%s@%d", m.GetData(), ctx.Consumer.GetOffset()))
		sg.Unlock()
	}, stream.NewConsumerOptions().SetOffset(stream.OffsetSpecification{}.First()).SetFilter(stream.NewConsumerFilter([]string{"rare"}, false, rare)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !spWait(20*time.Second, func() bool { sg.Lock(); defer sg.Unlock(); return len(sg.got) >= len(want) }) {
		t.Fatalf("stream-protocol filtered consumer got %d of %d", len(sg.got), len(want))
	}
	sg.Lock()
	defer sg.Unlock()
	if fmt.Sprint(over091) != fmt.Sprint(want) || fmt.Sprint(sg.got) != fmt.Sprint(want) {
		t.Fatalf("filtered reads differ:\n0-9-1  %v\nstream %v\nwant   %v", over091, sg.got, want)
	}
}
