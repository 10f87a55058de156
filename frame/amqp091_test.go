package frame

import (
	"bytes"
	"context"
	"io"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// This file cross-checks the codec against amqp091-go, an independent
// implementation: a real client talks over net.Pipe to a scripted server
// built on this package. Everything the client encodes must decode here to
// the values the test passed to the client; everything encoded here must
// reach the client's API intact.

const fakeFrameMax = 4096

// message is a publish as the fake server reassembled it.
type message struct {
	Publish    BasicPublish
	Props      Properties
	BodyFrames []int // size of each body frame, overhead included
	Body       []byte
	size       uint64
}

type fakeServer struct {
	t       *testing.T
	conn    net.Conn
	events  chan any // decoded methods and *message, in arrival order
	pending *message
	confirm bool
	pubSeq  uint64
	wmu     sync.Mutex
}

func startFake(t *testing.T) (*fakeServer, net.Conn) {
	srv, cli := net.Pipe()
	s := &fakeServer{t: t, conn: srv, events: make(chan any, 256)}
	go s.run()
	t.Cleanup(func() { srv.Close(); cli.Close() })
	return s, cli
}

func (s *fakeServer) write(b []byte) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_, _ = s.conn.Write(b)
}

func (s *fakeServer) send(ch uint16, m Method) {
	if err := m.Validate(); err != nil {
		s.t.Errorf("sending %s: %v", m.Name(), err)
	}
	s.write(AppendMethodFrame(nil, ch, m))
}

func (s *fakeServer) run() {
	hdr := make([]byte, 8)
	if _, err := io.ReadFull(s.conn, hdr); err != nil || !bytes.Equal(hdr, ProtocolHeader[:]) {
		s.t.Errorf("protocol header %q, %v", hdr, err)
		return
	}
	s.send(0, &ConnectionStart{
		VersionMajor: 0, VersionMinor: 9,
		ServerProperties: Table{"product": "warren", "capabilities": Table{
			"publisher_confirms": true, "basic.nack": true, "consumer_cancel_notify": true,
			"connection.blocked": true, "exchange_exchange_bindings": true,
		}},
		Mechanisms: "PLAIN AMQPLAIN", Locales: "en_US",
	})
	var buf []byte
	tmp := make([]byte, 32<<10)
	for {
		n, err := s.conn.Read(tmp)
		if err != nil {
			return
		}
		buf = append(buf, tmp[:n]...)
		for {
			f, n, err := Parse(buf, fakeFrameMax)
			if err != nil {
				s.t.Errorf("Parse: %v", err)
				return
			}
			if n == 0 {
				break
			}
			s.handle(f)
			buf = buf[n:]
		}
	}
}

func (s *fakeServer) handle(f Frame) {
	switch f.Type {
	case FrameMethod:
		m, err := DecodeMethod(f.Payload)
		if err != nil {
			s.t.Errorf("DecodeMethod(%x): %v", f.Payload, err)
			return
		}
		if p, ok := m.(*BasicPublish); ok {
			// The zero-copy decoder must agree with the generated one.
			ex, rk, mand, imm, err := DecodePublishView(f.Payload[4:])
			if err != nil || string(ex) != p.Exchange || string(rk) != p.RoutingKey || mand != p.Mandatory || imm != p.Immediate {
				s.t.Errorf("DecodePublishView disagrees: %q %q %v %v %v", ex, rk, mand, imm, err)
			}
			s.pending = &message{Publish: *p}
			return
		}
		s.events <- m
		s.reply(f.Channel, m)
	case FrameHeader:
		class, size, raw, err := ParseContentHeader(f.Payload)
		if err != nil || class != ClassBasic || s.pending == nil {
			s.t.Errorf("content header: class %d, %v", class, err)
			return
		}
		if err := ValidateProperties(raw); err != nil {
			s.t.Errorf("ValidateProperties: %v", err)
		}
		if s.pending.Props, err = DecodeProperties(raw); err != nil {
			s.t.Errorf("DecodeProperties: %v", err)
		}
		if PropsDeliveryMode(raw) != s.pending.Props.DeliveryMode {
			s.t.Errorf("PropsDeliveryMode disagrees")
		}
		if PropsPriority(raw) != s.pending.Props.Priority {
			s.t.Errorf("PropsPriority disagrees")
		}
		s.pending.size = size
		if size == 0 {
			s.published(f.Channel)
		}
	case FrameBody:
		p := s.pending
		p.Body = append(p.Body, f.Payload...)
		p.BodyFrames = append(p.BodyFrames, len(f.Payload)+frameOverhead)
		if uint64(len(p.Body)) == p.size {
			s.published(f.Channel)
		}
	}
}

// published answers a complete publish: a return for "unroutable", then
// a confirm (a nack for anything returned) when in confirm mode.
func (s *fakeServer) published(ch uint16) {
	p := s.pending
	s.pending = nil
	s.events <- p
	returned := p.Publish.Mandatory && p.Publish.RoutingKey == "unroutable"
	if returned {
		var b []byte
		b = AppendBasicReturn(b, ch, NoRoute, "NO_ROUTE", []byte(p.Publish.Exchange), []byte(p.Publish.RoutingKey))
		b = AppendContentHeader(b, ch, ClassBasic, uint64(len(p.Body)), AppendProperties(nil, &p.Props))
		b = AppendBody(b, ch, p.Body, fakeFrameMax)
		s.write(b)
	}
	if s.confirm {
		s.pubSeq++
		if returned {
			s.write(AppendBasicNack(nil, ch, s.pubSeq, false, false))
		} else {
			s.write(AppendBasicAck(nil, ch, s.pubSeq, false))
		}
	}
}

func (s *fakeServer) reply(ch uint16, m Method) {
	var r Method
	switch m := m.(type) {
	case *ConnectionStartOk:
		r = &ConnectionTune{ChannelMax: 16, FrameMax: fakeFrameMax}
	case *ConnectionOpen:
		r = &ConnectionOpenOk{}
	case *ConnectionClose:
		r = &ConnectionCloseOk{}
	case *ConnectionUpdateSecret:
		r = &ConnectionUpdateSecretOk{}
	case *ChannelOpen:
		r = &ChannelOpenOk{}
	case *ChannelFlow:
		r = &ChannelFlowOk{Active: m.Active}
	case *ChannelClose:
		r = &ChannelCloseOk{}
	case *ExchangeDeclare:
		r = &ExchangeDeclareOk{}
	case *ExchangeDelete:
		r = &ExchangeDeleteOk{}
	case *ExchangeBind:
		r = &ExchangeBindOk{}
	case *ExchangeUnbind:
		r = &ExchangeUnbindOk{}
	case *QueueDeclare:
		r = &QueueDeclareOk{Queue: m.Queue, MessageCount: 7, ConsumerCount: 3}
	case *QueueBind:
		r = &QueueBindOk{}
	case *QueueUnbind:
		r = &QueueUnbindOk{}
	case *QueuePurge:
		r = &QueuePurgeOk{MessageCount: 11}
	case *QueueDelete:
		r = &QueueDeleteOk{MessageCount: 5}
	case *BasicQos:
		r = &BasicQosOk{}
	case *BasicConsume:
		r = &BasicConsumeOk{ConsumerTag: m.ConsumerTag}
	case *BasicCancel:
		r = &BasicCancelOk{ConsumerTag: m.ConsumerTag}
	case *BasicRecover:
		r = &BasicRecoverOk{}
	case *BasicGet:
		if m.Queue == "empty" {
			r = &BasicGetEmpty{}
			break
		}
		p := serverProps()
		var b []byte
		b = AppendBasicGetOk(b, ch, 99, true, []byte("ex"), []byte("rk"), 4)
		b = AppendContentHeader(b, ch, ClassBasic, 5, AppendProperties(nil, &p))
		b = AppendBody(b, ch, []byte("hello"), fakeFrameMax)
		s.write(b)
	case *ConfirmSelect:
		s.confirm = true
		r = &ConfirmSelectOk{}
	case *TxSelect:
		r = &TxSelectOk{}
	case *TxCommit:
		r = &TxCommitOk{}
	case *TxRollback:
		r = &TxRollbackOk{}
	}
	if r != nil {
		s.send(ch, r)
	}
}

// serverProps are the properties the fake server sends with content:
// every one amqp091-go exposes (it has no cluster-id).
func serverProps() Properties {
	p := fullProperties()
	p.ClusterID = ""
	p.Headers = Table{
		"s": "str", "i": int32(-1), "l": int64(1 << 40), "t": true, "x": []byte{1, 2},
		"A": []any{"a", uint8(1)}, "F": Table{"n": nil}, "T": time.Unix(1700000000, 0).UTC(),
		"D": Decimal{Scale: 3, Value: 1234}, "f": float32(0.5), "d": 0.25, "u": uint16(9),
		"i32": uint32(10), "s16": int16(-11), "b8": int8(-12),
	}
	return p
}

// fromAMQP converts amqp091-go's table values to what DecodeTable yields.
func fromAMQP(v any) any {
	switch v := v.(type) {
	case amqp.Table:
		if len(v) == 0 {
			return Table(nil)
		}
		t := Table{}
		for k, e := range v {
			t[k] = fromAMQP(e)
		}
		return t
	case []any:
		a := []any{}
		for _, e := range v {
			a = append(a, fromAMQP(e))
		}
		return a
	case amqp.Decimal:
		return Decimal{Scale: v.Scale, Value: v.Value}
	case int:
		return int32(v) // amqp091-go writes int as 'I'
	case time.Time:
		return time.Unix(v.Unix(), 0).UTC()
	}
	return v
}

func fromAMQPTable(t amqp.Table) Table { return fromAMQP(t).(Table) }

func next[T any](t *testing.T, s *fakeServer) T {
	t.Helper()
	select {
	case e, ok := <-s.events:
		if !ok {
			t.Fatal("server stopped")
		}
		v, ok := e.(T)
		if !ok {
			t.Fatalf("server got %#v, want a %T", e, v)
		}
		return v
	case <-time.After(30 * time.Second):
		var zero T
		t.Fatalf("timed out waiting for a %T", zero)
		panic("unreachable")
	}
}

func recv[T any](t *testing.T, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(30 * time.Second):
		var zero T
		t.Fatalf("timed out waiting for a client %T", zero)
		panic("unreachable")
	}
}

func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %#v\nwant %#v", what, got, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// checkDelivery compares what the client saw with what the server sent.
func checkDelivery(t *testing.T, d amqp.Delivery, p Properties, body []byte) {
	t.Helper()
	got := Properties{
		ContentType: d.ContentType, ContentEncoding: d.ContentEncoding,
		Headers: fromAMQPTable(d.Headers), DeliveryMode: d.DeliveryMode, Priority: d.Priority,
		CorrelationID: d.CorrelationId, ReplyTo: d.ReplyTo, Expiration: d.Expiration,
		MessageID: d.MessageId, Timestamp: uint64(d.Timestamp.Unix()), Type: d.Type,
		UserID: d.UserId, AppID: d.AppId,
	}
	same(t, "delivered properties", got, p)
	if !bytes.Equal(d.Body, body) {
		t.Errorf("delivered body: %d bytes, want %d", len(d.Body), len(body))
	}
}

func TestAgainstAMQP091(t *testing.T) {
	s, cli := startFake(t)
	clientProps := amqp.Table{
		"bool": true, "int8": int8(-1), "byte": byte(2), "int16": int16(-3), "uint16": uint16(4),
		"int32": int32(-5), "uint32": uint32(6), "int64": int64(-7), "int": 8, "float32": float32(1.5),
		"float64": 2.5, "decimal": amqp.Decimal{Scale: 1, Value: 5}, "string": "s", "bytes": []byte("b"),
		"time": time.Unix(1700000000, 0), "array": []any{"a", int32(1), amqp.Table{"x": nil}},
		"table": amqp.Table{"nested": true}, "void": nil,
	}
	conn, err := amqp.Open(cli, amqp.Config{
		SASL:       []amqp.Authentication{&amqp.PlainAuth{Username: "guest", Password: "guest"}},
		Vhost:      "/test",
		FrameSize:  fakeFrameMax,
		Locale:     "en_US",
		Properties: clientProps,
	})
	must(t, err)
	defer conn.Close()

	// Handshake. amqp091-go adds its capabilities to our properties table.
	startOk := next[*ConnectionStartOk](t, s)
	same(t, "client properties", startOk.ClientProperties, fromAMQPTable(clientProps))
	same(t, "start-ok", *startOk, ConnectionStartOk{ClientProperties: startOk.ClientProperties,
		Mechanism: "PLAIN", Response: "\x00guest\x00guest", Locale: "en_US"})
	same(t, "tune-ok", *next[*ConnectionTuneOk](t, s), ConnectionTuneOk{ChannelMax: 16, FrameMax: fakeFrameMax})
	same(t, "open", *next[*ConnectionOpen](t, s), ConnectionOpen{VirtualHost: "/test"})

	ch, err := conn.Channel()
	must(t, err)
	next[*ChannelOpen](t, s)

	args := amqp.Table{"alternate-exchange": "ae", "x-n": int64(5), "x-list": []any{"a"}}
	must(t, ch.ExchangeDeclare("ex", "topic", true, false, true, false, args))
	same(t, "exchange.declare", *next[*ExchangeDeclare](t, s), ExchangeDeclare{Exchange: "ex", Type: "topic",
		Durable: true, Internal: true, Arguments: fromAMQPTable(args)})

	q, err := ch.QueueDeclare("q", true, false, true, false, amqp.Table{"x-max-length": int32(10)})
	must(t, err)
	same(t, "queue.declare", *next[*QueueDeclare](t, s), QueueDeclare{Queue: "q", Durable: true,
		Exclusive: true, Arguments: Table{"x-max-length": int32(10)}})
	same(t, "declare-ok as seen by the client", q, amqp.Queue{Name: "q", Messages: 7, Consumers: 3})

	must(t, ch.QueueBind("q", "rk.#", "ex", false, nil))
	same(t, "queue.bind", *next[*QueueBind](t, s), QueueBind{Queue: "q", Exchange: "ex", RoutingKey: "rk.#"})
	must(t, ch.ExchangeBind("dst", "k", "src", false, amqp.Table{"a": "b"}))
	same(t, "exchange.bind", *next[*ExchangeBind](t, s), ExchangeBind{Destination: "dst", Source: "src",
		RoutingKey: "k", Arguments: Table{"a": "b"}})
	must(t, ch.ExchangeUnbind("dst", "k", "src", false, nil))
	same(t, "exchange.unbind", *next[*ExchangeUnbind](t, s), ExchangeUnbind{Destination: "dst", Source: "src", RoutingKey: "k"})
	must(t, ch.QueueUnbind("q", "rk.#", "ex", nil))
	same(t, "queue.unbind", *next[*QueueUnbind](t, s), QueueUnbind{Queue: "q", Exchange: "ex", RoutingKey: "rk.#"})
	must(t, ch.Qos(10, 0, true))
	same(t, "basic.qos", *next[*BasicQos](t, s), BasicQos{PrefetchCount: 10, Global: true})
	must(t, ch.Flow(false))
	same(t, "channel.flow", *next[*ChannelFlow](t, s), ChannelFlow{Active: false})
	must(t, ch.Tx())
	next[*TxSelect](t, s)
	must(t, ch.TxCommit())
	next[*TxCommit](t, s)
	must(t, ch.TxRollback())
	next[*TxRollback](t, s)
	must(t, conn.UpdateSecret("new-token", "rotation"))
	same(t, "update-secret", *next[*ConnectionUpdateSecret](t, s), ConnectionUpdateSecret{NewSecret: "new-token", Reason: "rotation"})

	// Publishing with confirms: a body larger than frame-max arrives split,
	// no frame over the limit; a mandatory unroutable one comes back.
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 4))
	returns := ch.NotifyReturn(make(chan amqp.Return, 1))
	must(t, ch.Confirm(false))
	same(t, "confirm.select", *next[*ConfirmSelect](t, s), ConfirmSelect{})

	body := bytes.Repeat([]byte("0123456789"), 1000)
	pub := amqp.Publishing{
		Headers: amqp.Table{"h": int32(1), "when": time.Unix(1, 0)}, ContentType: "application/json",
		ContentEncoding: "utf-8", DeliveryMode: amqp.Persistent, Priority: 5, CorrelationId: "c1",
		ReplyTo: "rq", Expiration: "1000", MessageId: "m1", Timestamp: time.Unix(1700000001, 0),
		Type: "order", UserId: "guest", AppId: "test", Body: body,
	}
	must(t, ch.PublishWithContext(context.Background(), "ex", "rk.a", true, false, pub))
	msg := next[*message](t, s)
	same(t, "basic.publish", msg.Publish, BasicPublish{Exchange: "ex", RoutingKey: "rk.a", Mandatory: true})
	wantProps := Properties{
		ContentType: "application/json", ContentEncoding: "utf-8",
		Headers: Table{"h": int32(1), "when": time.Unix(1, 0).UTC()}, DeliveryMode: 2, Priority: 5,
		CorrelationID: "c1", ReplyTo: "rq", Expiration: "1000", MessageID: "m1", Timestamp: 1700000001,
		Type: "order", UserID: "guest", AppID: "test",
	}
	same(t, "publish properties", msg.Props, wantProps)
	if !bytes.Equal(msg.Body, body) {
		t.Errorf("published body: %d bytes, want %d", len(msg.Body), len(body))
	}
	same(t, "body frame sizes", msg.BodyFrames, []int{4096, 4096, 10000 - 2*4088 + 8})
	same(t, "confirm", recv(t, confirms), amqp.Confirmation{DeliveryTag: 1, Ack: true})

	must(t, ch.PublishWithContext(context.Background(), "ex", "unroutable", true, false, amqp.Publishing{Body: []byte("x")}))
	next[*message](t, s)
	ret := recv(t, returns)
	if ret.ReplyCode != NoRoute || ret.ReplyText != "NO_ROUTE" || ret.Exchange != "ex" || ret.RoutingKey != "unroutable" || string(ret.Body) != "x" {
		t.Errorf("return: %+v", ret)
	}
	same(t, "nack", recv(t, confirms), amqp.Confirmation{DeliveryTag: 2, Ack: false})

	// Consuming: deliveries built by the hot-path appenders.
	deliveries, err := ch.Consume("q", "ctag", false, true, false, false, amqp.Table{"x-priority": int32(5)})
	must(t, err)
	same(t, "basic.consume", *next[*BasicConsume](t, s), BasicConsume{Queue: "q", ConsumerTag: "ctag",
		Exclusive: true, Arguments: Table{"x-priority": int32(5)}})

	sp := serverProps()
	raw := AppendProperties(nil, &sp)
	big := bytes.Repeat([]byte{0xAB}, 3*fakeFrameMax)
	for tag, b := range [][]byte{big, {}, []byte("small")} {
		var w []byte
		w = AppendBasicDeliver(w, 1, "ctag", uint64(tag+1), tag == 1, []byte("ex"), []byte("rk.b"))
		w = AppendContentHeader(w, 1, ClassBasic, uint64(len(b)), raw)
		w = AppendBody(w, 1, b, fakeFrameMax)
		s.write(w)
		d := recv(t, deliveries)
		if d.ConsumerTag != "ctag" || d.DeliveryTag != uint64(tag+1) || d.Redelivered != (tag == 1) ||
			d.Exchange != "ex" || d.RoutingKey != "rk.b" {
			t.Errorf("delivery %d: %+v", tag, d)
		}
		checkDelivery(t, d, sp, b)
		switch tag {
		case 0:
			must(t, d.Ack(false))
			same(t, "basic.ack", *next[*BasicAck](t, s), BasicAck{DeliveryTag: 1})
		case 1:
			must(t, d.Nack(true, false))
			same(t, "basic.nack", *next[*BasicNack](t, s), BasicNack{DeliveryTag: 2, Multiple: true})
		case 2:
			must(t, d.Reject(true))
			same(t, "basic.reject", *next[*BasicReject](t, s), BasicReject{DeliveryTag: 3, Requeue: true})
		}
	}

	got, ok, err := ch.Get("q", true)
	must(t, err)
	same(t, "basic.get", *next[*BasicGet](t, s), BasicGet{Queue: "q", NoAck: true})
	if !ok || got.DeliveryTag != 99 || !got.Redelivered || got.MessageCount != 4 || got.Exchange != "ex" || got.RoutingKey != "rk" {
		t.Errorf("get-ok: %v %+v", ok, got)
	}
	checkDelivery(t, got, serverProps(), []byte("hello"))
	if _, ok, err := ch.Get("empty", false); ok || err != nil {
		t.Errorf("get-empty: %v %v", ok, err)
	}
	next[*BasicGet](t, s)

	//lint:ignore SA1019 old clients still send basic.recover; the broker must decode it.
	must(t, ch.Recover(true))
	same(t, "basic.recover", *next[*BasicRecover](t, s), BasicRecover{Requeue: true})

	// Server-initiated methods.
	blocked := conn.NotifyBlocked(make(chan amqp.Blocking, 2))
	s.send(0, &ConnectionBlocked{Reason: "low on memory"})
	s.send(0, &ConnectionUnblocked{})
	same(t, "blocked", recv(t, blocked), amqp.Blocking{Active: true, Reason: "low on memory"})
	same(t, "unblocked", recv(t, blocked), amqp.Blocking{Active: false})

	cancels := ch.NotifyCancel(make(chan string, 1))
	s.send(1, &BasicCancel{ConsumerTag: "ctag", NoWait: true})
	same(t, "server cancel", recv(t, cancels), "ctag")

	// A soft error from the server closes only that channel.
	ch2, err := conn.Channel()
	must(t, err)
	next[*ChannelOpen](t, s)
	closed := ch2.NotifyClose(make(chan *amqp.Error, 1))
	s.send(2, &ChannelClose{ReplyCode: NotFound, ReplyText: "NOT_FOUND - no queue 'x'", ClassID: 50, MethodID: 10})
	same(t, "channel.close-ok", *next[*ChannelCloseOk](t, s), ChannelCloseOk{})
	if e := recv(t, closed); e == nil || e.Code != NotFound || e.Reason != "NOT_FOUND - no queue 'x'" || !e.Server {
		t.Errorf("channel close error: %+v", e)
	}

	n, err := ch.QueuePurge("q", false)
	must(t, err)
	same(t, "queue.purge", *next[*QueuePurge](t, s), QueuePurge{Queue: "q"})
	if n != 11 {
		t.Errorf("purge count %d", n)
	}
	n, err = ch.QueueDelete("q", true, true, false)
	must(t, err)
	same(t, "queue.delete", *next[*QueueDelete](t, s), QueueDelete{Queue: "q", IfUnused: true, IfEmpty: true})
	if n != 5 {
		t.Errorf("delete count %d", n)
	}
	must(t, ch.ExchangeDelete("ex", true, false))
	same(t, "exchange.delete", *next[*ExchangeDelete](t, s), ExchangeDelete{Exchange: "ex", IfUnused: true})

	must(t, ch.Close())
	if c := next[*ChannelClose](t, s); c.ReplyCode != ReplySuccess {
		t.Errorf("channel.close: %+v", c)
	}
	must(t, conn.Close())
	if c := next[*ConnectionClose](t, s); c.ReplyCode != ReplySuccess {
		t.Errorf("connection.close: %+v", c)
	}
}
