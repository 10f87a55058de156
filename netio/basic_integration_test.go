package netio_test

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestBasicQosPerConsumer(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	q := declareQueue(t, ch, "")
	if err := ch.Qos(2, 0, false); err != nil {
		t.Fatalf("basic.qos: %v", err)
	}
	ds := consume(t, ch, q, "", false)
	for i := 0; i < 5; i++ {
		publishText(t, ch, "", q, itoa(i))
	}
	d0 := recv(t, ds)
	recv(t, ds)
	noDelivery(t, ds, 300*time.Millisecond)
	if err := d0.Ack(false); err != nil {
		t.Fatal(err)
	}
	if d := recv(t, ds); string(d.Body) != "2" {
		t.Fatalf("after one ack got %q, want 2", d.Body)
	}
	noDelivery(t, ds, 200*time.Millisecond)
	// A second consumer on the same channel gets its own window of 2.
	q2 := declareQueue(t, ch, "second")
	for i := 0; i < 4; i++ {
		publishText(t, ch, "", q2, itoa(i))
	}
	ds2 := consume(t, ch, q2, "", false)
	recv(t, ds2)
	recv(t, ds2)
	noDelivery(t, ds2, 300*time.Millisecond)
}

func TestBasicQosGlobal(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	q1 := declareQueue(t, ch, "1")
	q2 := declareQueue(t, ch, "2")
	for i := 0; i < 5; i++ {
		publishText(t, ch, "", q1, "a"+itoa(i))
		publishText(t, ch, "", q2, "b"+itoa(i))
	}
	roundTrip(t, ch, q2)
	if err := ch.Qos(3, 0, true); err != nil {
		t.Fatalf("basic.qos global: %v", err)
	}
	ds1 := consume(t, ch, q1, "c1", false)
	ds2 := consume(t, ch, q2, "c2", false)
	var got []amqp.Delivery
	timeout := time.After(waitTimeout)
	for len(got) < 3 {
		select {
		case d := <-ds1:
			got = append(got, d)
		case d := <-ds2:
			got = append(got, d)
		case <-timeout:
			t.Fatalf("got %d deliveries, want 3 under a global prefetch of 3", len(got))
		}
	}
	select {
	case d := <-ds1:
		t.Fatalf("4th delivery %q over a global prefetch of 3", d.Body)
	case d := <-ds2:
		t.Fatalf("4th delivery %q over a global prefetch of 3", d.Body)
	case <-time.After(300 * time.Millisecond):
	}
	if err := got[0].Ack(false); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ds1:
	case <-ds2:
	case <-time.After(waitTimeout):
		t.Fatal("no delivery after an ack freed the global window")
	}
}

// TestBasicConsumeServerTag: an empty consumer tag gets a server-generated
// amq.ctag-* tag, used in the deliveries.
func TestBasicConsumeServerTag(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.open()
	q := name(t, "")
	cleanupQueue(t, q)
	r.queueDeclare(1, q, false)
	r.sendMethod(1, 60, 20, u16(0), shortstr(q), shortstr(""), bits(false, true, false, false), emptyTable)
	tag, _ := parseShortstr(r.expect(1, 60, 21))
	if !hasPrefix(tag, "amq.ctag-") || len(tag) <= len("amq.ctag-") {
		t.Fatalf("server-generated consumer tag %q, want amq.ctag-...", tag)
	}
	r.publish(1, "", q, []byte("hello"))
	args := r.expect(1, 60, 60) // basic.deliver
	if got, _ := parseShortstr(args); got != tag {
		t.Fatalf("basic.deliver consumer tag %q, want %q", got, tag)
	}
	// A second consumer also gets a fresh tag.
	r.sendMethod(1, 60, 20, u16(0), shortstr(q), shortstr(""), bits(false, true, false, false), emptyTable)
	for {
		f := r.next()
		if f.isMethod(60, 21) {
			if tag2, _ := parseShortstr(f.payload[4:]); tag2 == tag || !hasPrefix(tag2, "amq.ctag-") {
				t.Fatalf("second generated tag %q (first %q)", tag2, tag)
			}
			break
		}
	}
}

func TestBasicConsumeExclusive(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	if _, err := ch.Consume(q, "excl", false, true, false, false, nil); err != nil {
		t.Fatalf("exclusive consume: %v", err)
	}
	channelFails(t, c, amqp.AccessRefused, "second consumer on an exclusively consumed queue", func(ch *amqp.Channel) error {
		_, err := ch.Consume(q, "", false, false, false, false, nil)
		return err
	})
	// From another connection too.
	c2 := dial(t)
	channelFails(t, c2, amqp.AccessRefused, "consumer from another connection", func(ch *amqp.Channel) error {
		_, err := ch.Consume(q, "", false, false, false, false, nil)
		return err
	})
	// Once cancelled, others may consume.
	if err := ch.Cancel("excl", false); err != nil {
		t.Fatal(err)
	}
	ch2 := channel(t, c2)
	consume(t, ch2, q, "", false)
	// And an exclusive consume is refused while another consumer exists.
	channelFails(t, c, amqp.AccessRefused, "exclusive consume on a queue with a consumer", func(ch *amqp.Channel) error {
		_, err := ch.Consume(q, "", false, true, false, false, nil)
		return err
	})
}

func TestBasicConsumeMissingQueue(t *testing.T) {
	t.Parallel()
	c := dial(t)
	channelFails(t, c, amqp.NotFound, "consume from a missing queue", func(ch *amqp.Channel) error {
		_, err := ch.Consume(name(t, "missing"), "", false, false, false, false, nil)
		return err
	})
}

func TestBasicCancel(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	ds := consume(t, ch, q, "tag", false)
	publishText(t, ch, "", q, "first")
	d := recv(t, ds)
	if d.ConsumerTag != "tag" {
		t.Fatalf("delivery consumer tag %q, want tag", d.ConsumerTag)
	}
	if err := ch.Cancel("tag", false); err != nil {
		t.Fatalf("basic.cancel: %v", err)
	}
	select {
	case _, ok := <-ds:
		if ok {
			t.Fatal("delivery after cancel")
		}
	case <-time.After(waitTimeout):
		t.Fatal("deliveries channel not closed after cancel")
	}
	publishText(t, ch, "", q, "second")
	if st := queueState(t, c, q); st.Messages != 1 || st.Consumers != 0 {
		t.Fatalf("after cancel: %+v, want 1 message 0 consumers", st)
	}
	// A delivery made before the cancel can still be acked.
	if err := d.Ack(false); err != nil {
		t.Fatal(err)
	}
	mustGet(t, ch, q, true, "second")
	if st := queueState(t, c, q); st.Messages != 0 {
		t.Fatalf("after ack: %d messages, want 0", st.Messages)
	}
	// Cancelling an unknown tag is not an error.
	if err := ch.Cancel("never-was", false); err != nil {
		t.Fatalf("basic.cancel of an unknown tag: %v", err)
	}
}

// TestBasicServerCancel: deleting a consumed queue sends basic.cancel to
// its consumers (consumer_cancel_notify), from another connection and from
// the consumer's own connection.
func TestBasicServerCancel(t *testing.T) {
	t.Parallel()
	// The same-connection case runs three times: it depends on timing.
	for i, sameConn := range []bool{false, true, true, true} {
		c, ch := connChan(t)
		q := declareQueue(t, ch, "case-"+itoa(i))
		cancels := ch.NotifyCancel(make(chan string, 1))
		ds := consume(t, ch, q, "watched", false)
		publishText(t, ch, "", q, "in-flight")
		inFlight := recv(t, ds)
		del := c
		if !sameConn {
			del = dial(t)
		}
		dch := channel(t, del)
		if _, err := dch.QueueDelete(q, false, false, false); err != nil {
			t.Fatalf("queue.delete: %v", err)
		}
		select {
		case tag := <-cancels:
			if tag != "watched" {
				t.Fatalf("basic.cancel for %q, want watched", tag)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("no basic.cancel after the consumed queue was deleted (deleted from the same connection: %v)", sameConn)
		}
		select {
		case _, ok := <-ds:
			if ok {
				t.Fatal("delivery after server cancel")
			}
		case <-time.After(waitTimeout):
			t.Fatal("deliveries channel not closed after server cancel")
		}
		// A delivery from the deleted queue may still be acked: the
		// channel stays open.
		if err := inFlight.Ack(false); err != nil {
			t.Fatal(err)
		}
		if _, err := ch.QueueDeclare("", false, true, true, false, nil); err != nil {
			t.Fatalf("channel after acking a delivery of a deleted queue: %v", err)
		}
		connUsable(t, c)
	}
}

func TestBasicMandatoryReturn(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	returns := ch.NotifyReturn(make(chan amqp.Return, 4))
	key := name(t, "nobody-bound")
	publishOpts(t, ch, "amq.direct", key, true, false, amqp.Publishing{
		Body: []byte("unroutable"), ContentType: "text/plain", MessageId: "m-1", Headers: amqp.Table{"h": "v"},
	})
	select {
	case r := <-returns:
		if r.ReplyCode != amqp.NoRoute || r.ReplyText != "NO_ROUTE" {
			t.Fatalf("basic.return %d %q, want 312 NO_ROUTE", r.ReplyCode, r.ReplyText)
		}
		if r.Exchange != "amq.direct" || r.RoutingKey != key || string(r.Body) != "unroutable" {
			t.Fatalf("basic.return exchange %q key %q body %q", r.Exchange, r.RoutingKey, r.Body)
		}
		if r.ContentType != "text/plain" || r.MessageId != "m-1" || r.Headers["h"] != "v" {
			t.Fatalf("basic.return lost properties: %+v", r)
		}
	case <-time.After(waitTimeout):
		t.Fatal("no basic.return for a mandatory unroutable publish")
	}
	// Through the default exchange to a missing queue, too.
	publishOpts(t, ch, "", name(t, "no-queue"), true, false, amqp.Publishing{Body: []byte("x")})
	select {
	case r := <-returns:
		if r.ReplyCode != amqp.NoRoute {
			t.Fatalf("return code %d, want 312", r.ReplyCode)
		}
	case <-time.After(waitTimeout):
		t.Fatal("no basic.return via the default exchange")
	}
	// Not mandatory, or routable: no return.
	q := declareQueue(t, ch, "")
	publishOpts(t, ch, "amq.direct", key, false, false, amqp.Publishing{Body: []byte("dropped")})
	publishOpts(t, ch, "", q, true, false, amqp.Publishing{Body: []byte("routed")})
	roundTrip(t, ch, q)
	select {
	case r := <-returns:
		t.Fatalf("unexpected basic.return %q", r.Body)
	case <-time.After(200 * time.Millisecond):
	}
	mustGet(t, ch, q, true, "routed")
}

func TestBasicGet(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	q := declareQueue(t, ch, "")
	bindQueue(t, ch, q, "rk", "amq.direct", nil)
	for i := 0; i < 3; i++ {
		publishText(t, ch, "amq.direct", "rk", itoa(i))
	}
	roundTrip(t, ch, q)
	var lastTag uint64
	for i := 0; i < 3; i++ {
		d := mustGet(t, ch, q, false, itoa(i))
		if d.MessageCount != uint32(2-i) {
			t.Errorf("get-ok #%d message count %d, want %d", i, d.MessageCount, 2-i)
		}
		if d.Exchange != "amq.direct" || d.RoutingKey != "rk" || d.Redelivered {
			t.Errorf("get-ok #%d exchange %q key %q redelivered %v", i, d.Exchange, d.RoutingKey, d.Redelivered)
		}
		if d.DeliveryTag <= lastTag {
			t.Errorf("delivery tag %d not increasing (last %d)", d.DeliveryTag, lastTag)
		}
		lastTag = d.DeliveryTag
	}
	mustGetEmpty(t, ch, q)
	if err := ch.Ack(lastTag, true); err != nil {
		t.Fatal(err)
	}
	channelFails(t, dial(t), amqp.NotFound, "basic.get from a missing queue", func(ch *amqp.Channel) error {
		_, _, err := ch.Get(name(t, "missing"), true)
		return err
	})
}

// TestBasicRequeueOrder: rejected/nacked messages come back at their
// original position, marked redelivered.
func TestBasicRequeueOrder(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	for i := 0; i < 5; i++ {
		publishText(t, ch, "", q, "m"+itoa(i))
	}
	roundTrip(t, ch, q)
	mustGet(t, ch, q, false, "m0")
	g1 := mustGet(t, ch, q, false, "m1")
	g2 := mustGet(t, ch, q, false, "m2")
	if err := g1.Reject(true); err != nil {
		t.Fatal(err)
	}
	if d := mustGet(t, ch, q, false, "m1"); !d.Redelivered {
		t.Fatal("rejected-and-requeued m1 not marked redelivered")
	}
	// nack multiple up to m2's tag: m0 and m2 go back (m1's new delivery has a later tag).
	if err := g2.Nack(true, true); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		body        string
		redelivered bool
	}{{"m0", true}, {"m2", true}, {"m3", false}, {"m4", false}}
	var last amqp.Delivery
	for _, w := range want {
		last = mustGet(t, ch, q, false, w.body)
		if last.Redelivered != w.redelivered {
			t.Fatalf("%s redelivered=%v, want %v", w.body, last.Redelivered, w.redelivered)
		}
	}
	mustGetEmpty(t, ch, q)
	// Ack everything outstanding (m1 again, m0, m2, m3, m4).
	if err := last.Ack(true); err != nil {
		t.Fatal(err)
	}
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}
	if st := queueState(t, c, q); st.Messages != 0 {
		t.Fatalf("%d messages came back after ack multiple and channel close, want 0", st.Messages)
	}
}

// TestBasicRequeueOrderConsumer: the same with a consumer; nack'd messages
// are redelivered before newer ones.
func TestBasicRequeueOrderConsumer(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	q := declareQueue(t, ch, "")
	for i := 0; i < 4; i++ {
		publishText(t, ch, "", q, "m"+itoa(i))
	}
	roundTrip(t, ch, q)
	if err := ch.Qos(2, 0, false); err != nil {
		t.Fatal(err)
	}
	ds := consume(t, ch, q, "", false)
	d0, d1 := recv(t, ds), recv(t, ds)
	if string(d0.Body) != "m0" || string(d1.Body) != "m1" {
		t.Fatalf("got %q %q, want m0 m1", d0.Body, d1.Body)
	}
	if err := d1.Nack(true, true); err != nil { // both back
		t.Fatal(err)
	}
	for _, w := range []string{"m0", "m1"} {
		d := recv(t, ds)
		if string(d.Body) != w || !d.Redelivered {
			t.Fatalf("got %q redelivered=%v, want %s redelivered", d.Body, d.Redelivered, w)
		}
		if err := d.Ack(false); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []string{"m2", "m3"} {
		d := recv(t, ds)
		if string(d.Body) != w || d.Redelivered {
			t.Fatalf("got %q redelivered=%v, want %s fresh", d.Body, d.Redelivered, w)
		}
		if err := d.Ack(false); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBasicRejectDiscard(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	for i := 0; i < 4; i++ {
		publishText(t, ch, "", q, itoa(i))
	}
	roundTrip(t, ch, q)
	d0 := mustGet(t, ch, q, false, "0")
	if err := d0.Reject(false); err != nil {
		t.Fatal(err)
	}
	mustGet(t, ch, q, false, "1")
	d2 := mustGet(t, ch, q, false, "2")
	if err := d2.Nack(true, false); err != nil {
		t.Fatal(err)
	}
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}
	ch2 := channel(t, c)
	if got := drain(t, ch2, q); len(got) != 1 || got[0] != "3" {
		t.Fatalf("after reject/nack without requeue the queue holds %q, want [3]", got)
	}
}

func TestBasicAckMultiple(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	ds := consume(t, ch, q, "", false)
	for i := 0; i < 5; i++ {
		publishText(t, ch, "", q, itoa(i))
	}
	var last amqp.Delivery
	for i := 0; i < 5; i++ {
		last = recv(t, ds)
	}
	// Out-of-order single ack, then multiple for the rest.
	if err := ch.Ack(2, false); err != nil {
		t.Fatal(err)
	}
	if err := last.Ack(true); err != nil {
		t.Fatal(err)
	}
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}
	if st := queueState(t, c, q); st.Messages != 0 {
		t.Fatalf("%d messages requeued after ack multiple, want 0", st.Messages)
	}
}

func TestBasicUnknownDeliveryTag(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	publishText(t, ch, "", q, "x")
	roundTrip(t, ch, q)
	cases := map[string]func(ch *amqp.Channel) error{
		"ack of an unknown tag":         func(ch *amqp.Channel) error { return ch.Ack(999, false) },
		"ack multiple of unknown tag":   func(ch *amqp.Channel) error { return ch.Ack(999, true) },
		"nack of an unknown tag":        func(ch *amqp.Channel) error { return ch.Nack(999, false, true) },
		"reject of an unknown tag":      func(ch *amqp.Channel) error { return ch.Reject(999, true) },
		"ack on a channel without gets": func(ch *amqp.Channel) error { return ch.Ack(1, false) },
		"double ack": func(ch *amqp.Channel) error {
			d, ok, err := ch.Get(q, false)
			if err != nil || !ok {
				t.Fatalf("get: %v %v", ok, err)
			}
			if err := d.Ack(false); err != nil {
				return err
			}
			publishText(t, ch, "", q, "x") // keep one for the next case
			return d.Ack(false)
		},
	}
	for what, op := range cases {
		channelFails(t, c, amqp.PreconditionFailed, what, func(ch *amqp.Channel) error {
			if err := op(ch); err != nil {
				return err
			}
			// ack has no reply: make a round trip to see the channel close
			_, err := ch.QueueDeclarePassive(q, false, false, false, false, nil)
			return err
		})
	}
}

func TestBasicRecover(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	q := declareQueue(t, ch, "")
	publishText(t, ch, "", q, "a")
	publishText(t, ch, "", q, "b")
	roundTrip(t, ch, q)
	mustGet(t, ch, q, false, "a")
	mustGet(t, ch, q, false, "b")
	mustGetEmpty(t, ch, q)
	//lint:ignore SA1019 basic.recover is the method under test
	if err := ch.Recover(true); err != nil {
		t.Fatalf("basic.recover requeue=true: %v", err)
	}
	for _, w := range []string{"a", "b"} {
		if d := mustGet(t, ch, q, false, w); !d.Redelivered {
			t.Fatalf("recovered %s not marked redelivered", w)
		}
	}
	// With a consumer: unacked deliveries come again.
	ch2 := channel(t, dial(t))
	q2 := declareQueue(t, ch2, "consumer")
	ds := consume(t, ch2, q2, "", false)
	publishText(t, ch2, "", q2, "c")
	if d := recv(t, ds); d.Redelivered {
		t.Fatal("first delivery marked redelivered")
	}
	//lint:ignore SA1019 basic.recover is the method under test
	if err := ch2.Recover(true); err != nil {
		t.Fatal(err)
	}
	d := recv(t, ds)
	if string(d.Body) != "c" || !d.Redelivered {
		t.Fatalf("after recover got %q redelivered=%v, want c redelivered", d.Body, d.Redelivered)
	}
	if err := d.Ack(false); err != nil {
		t.Fatal(err)
	}
}

// TestBasicRecoverNoRequeue: basic.recover requeue=false is 540
// NOT_IMPLEMENTED in RabbitMQ.
func TestBasicRecoverNoRequeue(t *testing.T) {
	t.Parallel()
	connectionFails(t, amqp.NotImplemented, "basic.recover requeue=false", func(ch *amqp.Channel) error {
		//lint:ignore SA1019 basic.recover is the method under test
		return ch.Recover(false)
	})
}

// TestBasicMessageTooLarge: a body over max_message_size is a 406 channel
// error; the connection carries on.
func TestBasicMessageTooLarge(t *testing.T) {
	needLocal(t)
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	channelFails(t, c, amqp.PreconditionFailed, "publish of max_message_size+1 bytes", func(ch *amqp.Channel) error {
		return ch.Publish("", q, false, false, amqp.Publishing{Body: make([]byte, maxMessageSize+1)})
	})
	if st := queueState(t, c, q); st.Messages != 0 {
		t.Fatalf("oversized message was queued (%d messages)", st.Messages)
	}
}

// TestBasicFairDispatch: with prefetch 1, a consumer holding an unacked
// message gets nothing more; the other consumer takes the rest. The busy
// consumer acks only once the other has finished, so the split does not
// depend on how fast either goroutine runs.
func TestBasicFairDispatch(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	const n = 20
	var mu sync.Mutex
	var busy, free int
	freeDone := make(chan struct{})
	stop := make(chan struct{})
	defer close(stop)
	consumeWith := func(handle func(d amqp.Delivery)) {
		wch := channel(t, c)
		if err := wch.Qos(1, 0, false); err != nil {
			t.Fatal(err)
		}
		ds, err := wch.Consume(q, "", false, false, false, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				select {
				case d, ok := <-ds:
					if !ok {
						return
					}
					handle(d)
				case <-stop:
					return
				}
			}
		}()
	}
	consumeWith(func(d amqp.Delivery) {
		mu.Lock()
		busy++
		mu.Unlock()
		select {
		case <-freeDone:
		case <-stop:
		}
		_ = d.Ack(false)
	})
	consumeWith(func(d amqp.Delivery) {
		mu.Lock()
		free++
		finished := busy+free == n
		mu.Unlock()
		_ = d.Ack(false)
		if finished {
			close(freeDone)
		}
	})
	for i := 0; i < n; i++ {
		publishText(t, ch, "", q, itoa(i))
	}
	eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return busy+free == n },
		"all %d messages to be delivered", n)
	mu.Lock()
	defer mu.Unlock()
	if busy > 1 {
		t.Fatalf("prefetch 1: the consumer holding an unacked message got %d, want at most 1 (the other got %d)", busy, free)
	}
}

// TestBasicRoundRobin: consumers without prefetch share a queue in turn.
func TestBasicRoundRobin(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	ch1, ch2 := channel(t, c), channel(t, c)
	ds1 := consume(t, ch1, q, "", true)
	ds2 := consume(t, ch2, q, "", true)
	for i := 0; i < 10; i++ {
		publishText(t, ch, "", q, itoa(i))
	}
	n1, n2 := 0, 0
	for n1+n2 < 10 {
		select {
		case <-ds1:
			n1++
		case <-ds2:
			n2++
		case <-time.After(waitTimeout):
			t.Fatalf("only %d+%d of 10 delivered", n1, n2)
		}
	}
	if n1 != 5 || n2 != 5 {
		t.Fatalf("round robin split %d/%d, want 5/5", n1, n2)
	}
}

func TestBasicTopicRouting(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	x := declareExchange(t, ch, "", "topic")
	patterns := []string{"#", "*", "a.#.b", "", "a.*", "#.b", "a.#", "*.*", "a.b", "*.b.#"}
	qs := map[string]string{}
	for i, p := range patterns {
		q := declareQueue(t, ch, "p"+itoa(i))
		bindQueue(t, ch, q, p, x, nil)
		qs[p] = q
	}
	keys := []string{"", "a", "b", "a.b", "a.x.b", "a.x.y.b", "a.b.c", "x.a.b", "a..b", ".", "x.b.y.z"}
	for _, k := range keys {
		publishText(t, ch, x, k, k)
	}
	want := map[string][]string{
		"#":     keys,
		"*":     {"a", "b"},
		"a.#.b": {"a.b", "a.x.b", "a.x.y.b", "a..b"},
		"":      {""},
		"a.*":   {"a.b"},
		"#.b":   {"b", "a.b", "a.x.b", "a.x.y.b", "x.a.b", "a..b"},
		"a.#":   {"a", "a.b", "a.x.b", "a.x.y.b", "a.b.c", "a..b"},
		"*.*":   {"a.b", "."},
		"a.b":   {"a.b"},
		"*.b.#": {"a.b", "a.b.c", "x.b.y.z"},
	}
	roundTrip(t, ch, qs["#"])
	waitMessages(t, c, qs["#"], len(keys))
	for _, p := range patterns {
		got := drain(t, ch, qs[p])
		w := append([]string(nil), want[p]...)
		g := append([]string(nil), got...)
		sort.Strings(w)
		sort.Strings(g)
		if !reflect.DeepEqual(g, w) && !(len(g) == 0 && len(w) == 0) {
			t.Errorf("pattern %q got keys %q, want %q", p, got, want[p])
		}
	}
}

func TestBasicHeadersRouting(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	x := declareExchange(t, ch, "", "headers")
	binds := map[string]amqp.Table{
		"all":     {"x-match": "all", "a": int32(1), "b": "x"},
		"any":     {"x-match": "any", "a": int32(1), "b": "x"},
		"default": {"a": int32(1), "b": "x"},
		"empty":   {"x-match": "all"},
	}
	qs := map[string]string{}
	for k, args := range binds {
		q := declareQueue(t, ch, k)
		bindQueue(t, ch, q, "ignored", x, args)
		qs[k] = q
	}
	msgs := []struct {
		body    string
		headers amqp.Table
	}{
		{"both", amqp.Table{"a": int32(1), "b": "x"}},
		{"a-only", amqp.Table{"a": int32(1)}},
		{"none", nil},
		{"a-wrong", amqp.Table{"a": int32(2), "b": "x"}},
		{"extra", amqp.Table{"a": int32(1), "b": "x", "c": "more"}},
	}
	for _, m := range msgs {
		publish(t, ch, x, "any-key", amqp.Publishing{Body: []byte(m.body), Headers: m.headers})
	}
	want := map[string][]string{
		"all":     {"both", "extra"},
		"any":     {"both", "a-only", "a-wrong", "extra"},
		"default": {"both", "extra"},
		"empty":   {"both", "a-only", "none", "a-wrong", "extra"},
	}
	waitMessages(t, c, qs["empty"], len(msgs))
	for k, w := range want {
		if got := drain(t, ch, qs[k]); !reflect.DeepEqual(got, w) {
			t.Errorf("x-match %s binding got %q, want %q", k, got, w)
		}
	}
	// Unbind needs the same arguments.
	if err := ch.QueueUnbind(qs["all"], "ignored", x, binds["all"]); err != nil {
		t.Fatal(err)
	}
	publish(t, ch, x, "", amqp.Publishing{Body: []byte("after"), Headers: amqp.Table{"a": int32(1), "b": "x"}})
	waitMessages(t, c, qs["any"], 1)
	mustGetEmpty(t, ch, qs["all"])
}

// TestBasicBodySizes: a 1 MiB body (the configured maximum) and an empty
// body arrive byte-exact, by consume and by get.
func TestBasicBodySizes(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	q := declareQueue(t, ch, "")
	big := make([]byte, 1<<20)
	_, _ = rand.Read(big)
	odd := make([]byte, 131072-8+1) // one byte more than fits one default frame
	_, _ = rand.Read(odd)
	bodies := [][]byte{big, {}, odd, []byte("x"), big}
	for _, b := range bodies {
		publish(t, ch, "", q, amqp.Publishing{Body: b})
	}
	roundTrip(t, ch, q)
	d, ok := get(t, ch, q, true)
	if !ok || !bytes.Equal(d.Body, big) {
		t.Fatalf("1 MiB body by basic.get: %d bytes, equal=%v", len(d.Body), bytes.Equal(d.Body, big))
	}
	ds := consume(t, ch, q, "", true)
	for i, b := range bodies[1:] {
		d := recv(t, ds)
		if !bytes.Equal(d.Body, b) {
			t.Fatalf("body %d: got %d bytes, want %d (byte-exact)", i+1, len(d.Body), len(b))
		}
	}
}

// TestBasicPropertiesRoundTrip: all the basic properties amqp091-go can
// set, with a headers table of every field type, come back as sent.
func TestBasicPropertiesRoundTrip(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	q := declareQueue(t, ch, "")
	ts := time.Unix(1700000000, 0)
	headers := amqp.Table{
		"str":   "s",
		"empty": "",
		"bool":  true,
		"false": false,
		"i8":    int8(-8),
		"u8":    uint8(200),
		"i16":   int16(-1600),
		"u16":   uint16(60000),
		"i32":   int32(-320000),
		"u32":   uint32(4000000000),
		"i64":   int64(-1 << 40),
		"f32":   float32(1.5),
		"f64":   float64(-2.25),
		"dec":   amqp.Decimal{Scale: 2, Value: 12345},
		"ts":    ts,
		"bytes": []byte{0, 1, 2, 0xff},
		"void":  nil,
		"table": amqp.Table{"inner": "v", "deeper": amqp.Table{"n": int32(1)}},
		"array": []any{int32(1), "two", true, amqp.Table{"k": "v"}, []any{int64(3)}, ts, amqp.Decimal{Scale: 1, Value: 5}, []byte("b")},
	}
	pub := amqp.Publishing{
		ContentType:     "application/json",
		ContentEncoding: "gzip",
		Headers:         headers,
		DeliveryMode:    amqp.Persistent,
		Priority:        7,
		CorrelationId:   "corr-1",
		ReplyTo:         "reply.queue",
		Expiration:      "600000",
		MessageId:       "msg-1",
		Timestamp:       ts,
		Type:            "it.type",
		UserId:          "guest",
		AppId:           "warren-it",
		Body:            []byte(`{"k":1}`),
	}
	publish(t, ch, "", q, pub)
	roundTrip(t, ch, q)
	check := func(how string, d amqp.Delivery) {
		t.Helper()
		got := amqp.Publishing{
			ContentType: d.ContentType, ContentEncoding: d.ContentEncoding, Headers: d.Headers,
			DeliveryMode: d.DeliveryMode, Priority: d.Priority, CorrelationId: d.CorrelationId,
			ReplyTo: d.ReplyTo, Expiration: d.Expiration, MessageId: d.MessageId, Timestamp: d.Timestamp,
			Type: d.Type, UserId: d.UserId, AppId: d.AppId, Body: d.Body,
		}
		if !reflect.DeepEqual(got, pub) {
			for k, v := range headers {
				if !reflect.DeepEqual(d.Headers[k], v) {
					t.Errorf("%s: header %q = %#v, want %#v", how, k, d.Headers[k], v)
				}
			}
			got.Headers, pub.Headers = nil, nil
			t.Fatalf("%s: properties differ:\n got %+v\nwant %+v", how, got, pub)
		}
	}
	d := mustGet(t, ch, q, false, `{"k":1}`)
	check("basic.get", d)
	if err := d.Nack(false, true); err != nil {
		t.Fatal(err)
	}
	ds := consume(t, ch, q, "", true)
	check("basic.deliver", recv(t, ds))
}

// TestBasicRawPropertiesByteExact: the content header properties,
// cluster-id included (amqp091-go cannot set it), come back byte for byte.
func TestBasicRawPropertiesByteExact(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.open()
	q := name(t, "")
	cleanupQueue(t, q)
	r.queueDeclare(1, q, false)
	var props []byte
	props = binary.BigEndian.AppendUint16(props, 0xfffc) // all 14 property bits
	props = append(props, shortstr("text/plain")...)
	props = append(props, shortstr("identity")...)
	props = append(props, table("k", stringField("v"), "n", fieldTable(table("b", boolField(true))))...)
	props = append(props, 2, 9) // delivery-mode, priority
	for _, s := range []string{"corr", "reply", "60000", "id-1"} {
		props = append(props, shortstr(s)...)
	}
	props = binary.BigEndian.AppendUint64(props, 1700000000)
	for _, s := range []string{"type", "guest", "app", "cluster"} {
		props = append(props, shortstr(s)...)
	}
	body := []byte("raw-props")
	hdr := binary.BigEndian.AppendUint16(nil, 60)
	hdr = binary.BigEndian.AppendUint16(hdr, 0)
	hdr = binary.BigEndian.AppendUint64(hdr, uint64(len(body)))
	hdr = append(hdr, props...)
	r.sendMethod(1, 60, 40, u16(0), shortstr(""), shortstr(q), bits(false, false))
	r.send(2, 1, hdr)
	r.send(3, 1, body)
	r.sendMethod(1, 60, 70, u16(0), shortstr(q), bits(true))
	r.expect(1, 60, 71)
	h := r.next()
	if h.typ != 2 || len(h.payload) < 12 {
		t.Fatalf("want content header, got %s", h)
	}
	if !bytes.Equal(h.payload[12:], props) {
		t.Fatalf("properties changed in transit:\n got %x\nwant %x", h.payload[12:], props)
	}
	if b := r.next(); b.typ != 3 || !bytes.Equal(b.payload, body) {
		t.Fatalf("body %s %q", b, b.payload)
	}
}

// TestBasicUserIDValidated: RabbitMQ refuses a user-id property that is
// not the connection's user with 406 PRECONDITION_FAILED.
func TestBasicUserIDValidated(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	channelFails(t, c, amqp.PreconditionFailed, "publish with user-id of another user", func(ch *amqp.Channel) error {
		return ch.Publish("", q, false, false, amqp.Publishing{UserId: "mallory", Body: []byte("x")})
	})
	if st := queueState(t, c, q); st.Messages != 0 {
		t.Fatalf("message with a forged user-id was queued")
	}
}

func TestBasicNoAckConsume(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	ds := consume(t, ch, q, "", true)
	for i := 0; i < 3; i++ {
		publishText(t, ch, "", q, itoa(i))
	}
	for i := 0; i < 3; i++ {
		if d := recv(t, ds); string(d.Body) != itoa(i) {
			t.Fatalf("got %q, want %d", d.Body, i)
		}
	}
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}
	if st := queueState(t, c, q); st.Messages != 0 {
		t.Fatalf("%d no-ack deliveries came back after channel close", st.Messages)
	}
}

// TestBasicUnackedRequeuedOnClose: unacked deliveries go back to the queue
// when their channel or connection closes.
func TestBasicUnackedRequeuedOnClose(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	publishText(t, ch, "", q, "one")
	publishText(t, ch, "", q, "two")
	cch := channel(t, c)
	ds := consume(t, cch, q, "", false)
	recv(t, ds)
	recv(t, ds)
	if err := cch.Close(); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"one", "two"} {
		if d := mustGet(t, ch, q, false, w); !d.Redelivered {
			t.Fatalf("%s not marked redelivered after channel close", w)
		}
	}
	// Now close the whole connection with them unacked.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2, ch2 := connChan(t)
	waitMessages(t, c2, q, 2)
	got := drain(t, ch2, q)
	if strings.Join(got, ",") != "one,two" {
		t.Fatalf("after connection close got %q, want [one two]", got)
	}
}

func TestBasicPublishMissingExchange(t *testing.T) {
	t.Parallel()
	c := dial(t)
	channelFails(t, c, amqp.NotFound, "publish to a missing exchange", func(ch *amqp.Channel) error {
		return ch.Publish(name(t, "missing"), "k", false, false, amqp.Publishing{Body: []byte("x")})
	})
}
