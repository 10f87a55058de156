package netio_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/broker"
)

// Streams over AMQP 0-9-1, checked against RabbitMQ 3.10.8 with
// WARREN_IT_URL=amqp://guest:guest@localhost:5672/ (except what needs the
// in-process broker: filtering, retention figures).

// declareStream declares a durable stream and deletes it at cleanup.
func declareStream(t *testing.T, ch *amqp.Channel, suffix string, args amqp.Table) string {
	t.Helper()
	q := name(t, suffix)
	a := amqp.Table{"x-queue-type": "stream"}
	for k, v := range args {
		a[k] = v
	}
	if _, err := ch.QueueDeclare(q, true, false, false, false, a); err != nil {
		t.Fatalf("declare stream %s: %v", q, err)
	}
	cleanupQueue(t, q)
	return q
}

// streamPublish publishes bodies to q and waits for every confirm.
func streamPublish(t *testing.T, ch *amqp.Channel, q string, bodies []string, headers func(i int) amqp.Table) {
	t.Helper()
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ds []*amqp.DeferredConfirmation
	for i, b := range bodies {
		p := amqp.Publishing{Body: []byte(b)}
		if headers != nil {
			p.Headers = headers(i)
		}
		d, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", q, false, false, p)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	for i, d := range ds {
		ok, err := d.WaitContext(ctx)
		if err != nil || !ok {
			t.Fatalf("confirm %d: %v %v", i, ok, err)
		}
	}
}

type streamMsg struct {
	body   string
	offset int64
	tag    uint64
}

// consumeStream consumes q with the stream arguments and acks each
// delivery; it returns the first n deliveries (fewer if none comes for
// idle).
func consumeStream(t *testing.T, ch *amqp.Channel, q string, args amqp.Table, n int, idle time.Duration) []streamMsg {
	t.Helper()
	if err := ch.Qos(10, 0, false); err != nil {
		t.Fatal(err)
	}
	tag := fmt.Sprintf("c%d", time.Now().UnixNano())
	ds, err := ch.Consume(q, tag, false, false, false, false, args)
	if err != nil {
		t.Fatalf("consume %v: %v", args, err)
	}
	defer ch.Cancel(tag, false)
	var got []streamMsg
	for len(got) < n {
		select {
		case d, ok := <-ds:
			if !ok {
				t.Fatalf("deliveries closed after %d", len(got))
			}
			off, isInt := d.Headers["x-stream-offset"].(int64)
			if !isInt {
				t.Fatalf("x-stream-offset header %T %v, want an int64 (RabbitMQ's 'l')", d.Headers["x-stream-offset"], d.Headers["x-stream-offset"])
			}
			got = append(got, streamMsg{string(d.Body), off, d.DeliveryTag})
			if err := d.Ack(false); err != nil {
				t.Fatal(err)
			}
		case <-time.After(idle):
			return got
		}
	}
	return got
}

func bodiesN(prefix string, n int) []string {
	b := make([]string, n)
	for i := range b {
		b[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return b
}

func TestStreamOffsetSpecs(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	q := declareStream(t, ch, "s", nil)
	streamPublish(t, ch, q, bodiesN("m", 10), nil)
	want := func(got []streamMsg, from, to int) {
		t.Helper()
		if len(got) != to-from {
			t.Fatalf("got %d messages %v, want offsets %d..%d", len(got), got, from, to-1)
		}
		for i, m := range got {
			if m.offset != int64(from+i) || m.body != fmt.Sprintf("m%d", from+i) {
				t.Fatalf("message %d: %+v, want offset %d body m%d", i, m, from+i, from+i)
			}
		}
	}
	for _, tc := range []struct {
		arg      any
		from, to int
	}{
		{"first", 0, 10},
		{int64(4), 4, 10},
		{int32(7), 7, 10},
		{int64(-1), 0, 10},
		{"1h", 0, 10},
		{"7D", 0, 10},
		{time.Now().Add(-time.Hour), 0, 10},
	} {
		_, cch := connChan(t)
		got := consumeStream(t, cch, q, amqp.Table{"x-stream-offset": tc.arg}, tc.to-tc.from, 10*time.Second)
		want(got, tc.from, tc.to)
	}
	// "last" is the last chunk: Warren stores a 0-9-1 publish as a chunk of
	// its own, so that is the last message; RabbitMQ batches what arrives
	// together, so its last chunk may start earlier. Both end at m9.
	_, cch := connChan(t)
	got := consumeStream(t, cch, q, amqp.Table{"x-stream-offset": "last"}, 10, 2*time.Second)
	if len(got) == 0 || got[len(got)-1].offset != 9 || got[len(got)-1].body != "m9" {
		t.Fatalf("last: got %v, want a run ending with m9 at offset 9", got)
	}
	want(got, 10-len(got), 10)
	if !external && len(got) != 1 {
		t.Fatalf("last: got %v, want m9 alone", got)
	}
	// A timestamp after every message, and "next": only what comes later.
	for _, arg := range []any{"next", time.Now().Add(time.Hour)} {
		_, cch := connChan(t)
		if err := cch.Qos(10, 0, false); err != nil {
			t.Fatal(err)
		}
		ds, err := cch.Consume(q, "", false, false, false, false, amqp.Table{"x-stream-offset": arg})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case d := <-ds:
			if _, isTime := arg.(time.Time); !isTime {
				t.Fatalf("%v: got %q before anything was published", arg, d.Body)
			}
		case <-time.After(500 * time.Millisecond):
		}
		if _, isTime := arg.(time.Time); isTime {
			continue
		}
		_, pch := connChan(t)
		streamPublish(t, pch, q, []string{"late"}, nil)
		select {
		case d := <-ds:
			if string(d.Body) != "late" || d.Headers["x-stream-offset"] != int64(10) {
				t.Fatalf("next: got %q %v, want late at offset 10", d.Body, d.Headers)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("next: nothing delivered after a publish")
		}
	}
}

// Consuming deletes nothing: two consumers read everything, acks give
// credit only, and a later consumer from first reads it all again.
func TestStreamNonDestructive(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	q := declareStream(t, ch, "s", nil)
	streamPublish(t, ch, q, bodiesN("m", 50), func(i int) amqp.Table {
		if i%2 == 1 {
			return amqp.Table{"a": int32(1)}
		}
		return nil
	})
	type res struct{ got []streamMsg }
	out := make(chan res, 2)
	for range 2 {
		go func() {
			_, cch := connChan(t)
			out <- res{consumeStream(t, cch, q, amqp.Table{"x-stream-offset": "first"}, 50, 10*time.Second)}
		}()
	}
	for range 2 {
		r := <-out
		if len(r.got) != 50 {
			t.Fatalf("a consumer got %d of 50 (prefetch 10: acks must give credit)", len(r.got))
		}
		for i, m := range r.got {
			if m.offset != int64(i) || m.body != fmt.Sprintf("m%d", i) {
				t.Fatalf("message %d: %+v", i, m)
			}
		}
	}
	_, cch := connChan(t)
	if got := consumeStream(t, cch, q, amqp.Table{"x-stream-offset": "first"}, 50, 10*time.Second); len(got) != 50 {
		t.Fatalf("after two consumers acked everything a third got %d of 50", len(got))
	}
	// Headers of the publish stay, x-stream-offset added after them.
	_, cch = connChan(t)
	if err := cch.Qos(1, 0, false); err != nil {
		t.Fatal(err)
	}
	ds, err := cch.Consume(q, "", false, false, false, false, amqp.Table{"x-stream-offset": int64(1)})
	if err != nil {
		t.Fatal(err)
	}
	d := <-ds
	if d.Headers["a"] != int32(1) || d.Headers["x-stream-offset"] != int64(1) || d.Exchange != "" || d.RoutingKey != q || d.Redelivered {
		t.Fatalf("delivery %+v headers %v, want a=1 and x-stream-offset=1, exchange '' and the queue as routing key", d, d.Headers)
	}
}

func TestStreamRefusedOperations(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	q := declareStream(t, ch, "s", nil)
	streamPublish(t, ch, q, []string{"m"}, nil)
	vhost := "/"
	connectionFails(t, amqp.NotImplemented, "basic.get", func(ch *amqp.Channel) error {
		_, _, err := ch.Get(q, false)
		wantReason(t, err, fmt.Sprintf("basic.get not supported by stream queues queue '%s' in vhost '%s'", q, vhost))
		return err
	})
	connectionFails(t, amqp.NotImplemented, "queue.purge", func(ch *amqp.Channel) error {
		_, err := ch.QueuePurge(q, false)
		wantReason(t, err, fmt.Sprintf("queue.purge not supported by stream queues queue '%s' in vhost '%s'", q, vhost))
		return err
	})
	connectionFails(t, amqp.NotImplemented, "consume no-ack", func(ch *amqp.Channel) error {
		if err := ch.Qos(10, 0, false); err != nil {
			return err
		}
		_, err := ch.Consume(q, "", true, false, false, false, nil)
		wantReason(t, err, "automatic acknowledgement not supported by stream queues")
		return err
	})
	c := dial(t)
	channelFails(t, c, amqp.PreconditionFailed, "consume without qos", func(ch *amqp.Channel) error {
		_, err := ch.Consume(q, "", false, false, false, false, nil)
		wantReason(t, err, fmt.Sprintf("consumer prefetch count is not set for 'queue '%s' in vhost '%s''", q, vhost))
		return err
	})
	for _, tc := range []struct {
		durable, exclusive, autoDelete bool
		args                           amqp.Table
		text                           string
	}{
		{false, false, false, nil, "invalid property 'non-durable' for queue"},
		{true, true, false, nil, "invalid property 'exclusive-owner' for queue"},
		{true, false, true, nil, "invalid property 'auto-delete' for queue"},
		{true, false, false, amqp.Table{"x-max-length": int32(10)}, "invalid arg 'x-max-length' for queue"},
		{true, false, false, amqp.Table{"x-message-ttl": int32(10)}, "invalid arg 'x-message-ttl' for queue"},
		{true, false, false, amqp.Table{"x-max-priority": int32(10)}, "invalid arg 'x-max-priority' for queue"},
		{true, false, false, amqp.Table{"x-max-age": "10X"}, "invalid arg 'x-max-age' for queue"},
	} {
		channelFails(t, c, amqp.PreconditionFailed, tc.text, func(ch *amqp.Channel) error {
			args := amqp.Table{"x-queue-type": "stream"}
			for k, v := range tc.args {
				args[k] = v
			}
			qn := name(t, "refused")
			_, err := ch.QueueDeclare(qn, tc.durable, tc.autoDelete, tc.exclusive, false, args)
			if err == nil {
				cleanupQueue(t, qn)
			}
			wantReason(t, err, tc.text)
			return err
		})
	}
}

func wantReason(t *testing.T, err error, text string) {
	t.Helper()
	if err != nil && !strings.Contains(err.Error(), text) {
		t.Errorf("%v, want RabbitMQ's text %q", err, text)
	}
}

// sharedStream is the in-process broker's handle on stream q.
func sharedStream(t *testing.T, q string) *broker.Stream {
	t.Helper()
	v, ok := shared.b.VHost("/")
	if !ok {
		t.Fatal("no vhost /")
	}
	s, err := v.Stream(q)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A consumer filtering on a value 1% of the messages carry gets exactly
// those, and the broker reads the bodies of ~1% of the chunks: the rest
// are skipped on their filter summaries.
func TestStreamFilter(t *testing.T) {
	needLocal(t)
	t.Parallel()
	_, ch := connChan(t)
	q := declareStream(t, ch, "s", nil)
	streamPublish(t, ch, q, bodiesN("m", 2000), func(i int) amqp.Table {
		switch {
		case i%100 == 7:
			return amqp.Table{"x-stream-filter-value": "rare"}
		case i%100 == 50:
			return nil // no filter value
		}
		return amqp.Table{"x-stream-filter-value": fmt.Sprint("common-", i%5)}
	})
	s := sharedStream(t, q)
	before := s.Stats()
	_, cch := connChan(t)
	got := consumeStream(t, cch, q, amqp.Table{"x-stream-offset": "first", "x-stream-filter": "rare"}, 20, 10*time.Second)
	if len(got) != 20 {
		t.Fatalf("filtered consumer got %d, want 20", len(got))
	}
	for i, m := range got {
		if m.offset != int64(i*100+7) || m.body != fmt.Sprint("m", i*100+7) {
			t.Fatalf("filtered message %d: %+v", i, m)
		}
	}
	after := waitStats(t, s, func(st broker.StreamStats) bool { return st.ChunksSkipped-before.ChunksSkipped >= 1900 })
	if read := after.ChunksRead - before.ChunksRead; read > 30 {
		t.Fatalf("a 1%% filter read %d chunk bodies of 2000 (skipped %d)", read, after.ChunksSkipped-before.ChunksSkipped)
	}
	// x-stream-match-unfiltered adds the messages without a value; an
	// array of values takes each.
	_, cch = connChan(t)
	got = consumeStream(t, cch, q, amqp.Table{"x-stream-offset": "first", "x-stream-filter": []any{"rare", "common-3"}, "x-stream-match-unfiltered": true}, 2000, 2*time.Second)
	rare, unf, common := 0, 0, 0
	for _, m := range got {
		switch n := int(m.offset); {
		case n%100 == 7:
			rare++
		case n%100 == 50:
			unf++
		case n%5 == 3:
			common++
		default:
			t.Fatalf("unwanted message %+v", m)
		}
	}
	if rare != 20 || unf != 20 || common != 400 {
		t.Fatalf("got %d rare, %d unfiltered, %d common-3", rare, unf, common)
	}
}

func waitStats(t *testing.T, s *broker.Stream, ok func(broker.StreamStats) bool) broker.StreamStats {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := s.Stats()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream stats %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Retention by x-max-length-bytes deletes whole segments from the head:
// a consumer from first starts after them.
func TestStreamRetentionIntegration(t *testing.T) {
	needLocal(t)
	t.Parallel()
	_, ch := connChan(t)
	q := declareStream(t, ch, "s", amqp.Table{"x-max-length-bytes": int64(40000), "x-stream-max-segment-size-bytes": int64(8192)})
	body := strings.Repeat("x", 500)
	bodies := make([]string, 400)
	for i := range bodies {
		bodies[i] = fmt.Sprint(i, body)
	}
	streamPublish(t, ch, q, bodies, nil)
	s := sharedStream(t, q)
	st := waitStats(t, s, func(st broker.StreamStats) bool { return st.CommittedNext == 400 })
	if st.FirstOffset == 0 || st.Bytes > 40000+8192 {
		t.Fatalf("retention kept %+v", st)
	}
	_, cch := connChan(t)
	got := consumeStream(t, cch, q, amqp.Table{"x-stream-offset": "first"}, 400, 2*time.Second)
	if len(got) != 400-int(st.FirstOffset) || got[0].offset != int64(st.FirstOffset) || !strings.HasPrefix(got[0].body, fmt.Sprint(st.FirstOffset, "x")) {
		t.Fatalf("from first after retention: %d messages from %d, want %d from %d", len(got), got[0].offset, 400-st.FirstOffset, st.FirstOffset)
	}
	// A policy can set retention too: a smaller max-length-bytes cuts more.
	v, _ := shared.b.VHost("/")
	if _, err := v.SetPolicy(broker.UserPolicy, broker.Policy{Name: q, Pattern: "^" + regexp.QuoteMeta(q) + "$", ApplyTo: "queues", Definition: map[string]any{"max-length-bytes": 20000}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = v.DeletePolicy(broker.UserPolicy, q) })
	streamPublish(t, ch, q, bodies[:20], nil)
	st2 := waitStats(t, s, func(st broker.StreamStats) bool { return st.CommittedNext == 420 })
	if st2.Bytes > 20000+8192 || st2.FirstOffset <= st.FirstOffset {
		t.Fatalf("after a policy of 20000 bytes: %+v (before %+v)", st2, st)
	}
}

// Redeclares and argument errors, with RabbitMQ 3.10.8's texts.
func TestStreamDeclareArgs(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	q := declareStream(t, ch, "s", nil)
	c := dial(t)
	for _, tc := range []struct {
		args amqp.Table
		text string
	}{
		{nil, fmt.Sprintf("inequivalent arg 'x-queue-type' for queue '%s' in vhost '/': received none but current is the value 'stream' of type 'longstr'", q)},
		{amqp.Table{"x-queue-type": "classic"}, fmt.Sprintf("inequivalent arg 'x-queue-type' for queue '%s' in vhost '/': received 'classic' but current is 'stream'", q)},
		{amqp.Table{"x-queue-type": "stream", "x-max-length-bytes": int32(1000)}, "inequivalent arg 'x-max-length-bytes' for queue '" + q + "' in vhost '/': received the value '1000' of type 'signedint' but current is none"},
		{amqp.Table{"x-queue-type": "stream", "x-max-age": "1D"}, "inequivalent arg 'x-max-age' for queue '" + q + "' in vhost '/': received the value '1D' of type 'longstr' but current is none"},
	} {
		channelFails(t, c, amqp.PreconditionFailed, tc.text, func(ch *amqp.Channel) error {
			_, err := ch.QueueDeclare(q, true, false, false, false, tc.args)
			wantReason(t, err, tc.text)
			return err
		})
	}
	if _, err := ch.QueueDeclarePassive(q, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args amqp.Table
		text string
	}{
		{amqp.Table{"x-expires": int32(1000)}, "invalid arg 'x-expires' for queue"},
		{amqp.Table{"x-single-active-consumer": true}, "invalid arg 'x-single-active-consumer' for queue"},
		{amqp.Table{"x-stream-max-segment-size-bytes": "x"}, `invalid arg 'x-stream-max-segment-size-bytes' for queue`},
		{amqp.Table{"x-stream-max-segment-size-bytes": "x"}, "expected integer, got longstr"},
		{amqp.Table{"x-max-length-bytes": int32(-1)}, "{value_negative,-1}"},
	} {
		channelFails(t, c, amqp.PreconditionFailed, tc.text, func(ch *amqp.Channel) error {
			args := amqp.Table{"x-queue-type": "stream"}
			for k, v := range tc.args {
				args[k] = v
			}
			qn := name(t, "bad")
			_, err := ch.QueueDeclare(qn, true, false, false, false, args)
			if err == nil {
				cleanupQueue(t, qn)
			}
			wantReason(t, err, tc.text)
			return err
		})
	}
	// basic.nack and basic.reject of a stream delivery: 540.
	for _, requeue := range []bool{true, false} {
		streamPublish(t, ch, q, []string{"m"}, nil)
		connectionFails(t, amqp.NotImplemented, "nack", func(ch *amqp.Channel) error {
			if err := ch.Qos(1, 0, false); err != nil {
				return err
			}
			ds, err := ch.Consume(q, "", false, false, false, false, amqp.Table{"x-stream-offset": "first"})
			if err != nil {
				return err
			}
			d := <-ds
			if requeue {
				return d.Nack(false, true)
			}
			return d.Reject(false)
		})
	}
}
