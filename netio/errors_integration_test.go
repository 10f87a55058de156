package netio_test

import (
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// TestChannelErrorKeepsConnection: a soft error closes only its channel;
// other channels and the connection carry on.
func TestChannelErrorKeepsConnection(t *testing.T) {
	t.Parallel()
	c, other := connChan(t)
	q := declareQueue(t, other, "")
	ch := channel(t, c)
	closes := ch.NotifyClose(make(chan *amqp.Error, 1))
	_, err := ch.QueueDeclarePassive(name(t, "missing"), false, false, false, false, nil)
	wantCode(t, err, amqp.NotFound, "passive declare of a missing queue")
	waitClosed(t, closes, amqp.NotFound, "channel")
	if c.IsClosed() {
		t.Fatal("connection closed by a channel error")
	}
	// The channel is gone: using it fails without touching the connection.
	if _, err := ch.QueueDeclare("", false, true, true, false, nil); err == nil {
		t.Fatal("closed channel still usable")
	}
	// The other channel opened before still works.
	publishText(t, other, "", q, "still-here")
	mustGet(t, other, q, true, "still-here")
	// And a new one can be opened.
	connUsable(t, c)
}

// TestChannelErrorThenReuseID: after a channel error and close-ok, the
// same channel number can be opened again (raw).
func TestChannelErrorThenReuseID(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.open()
	r.sendMethod(1, 50, 10, u16(0), shortstr(name(t, "missing")), bits(true, false, false, false, false), emptyTable)
	text, class, method := r.expectChannelClose(1, 404)
	if !hasPrefix(text, "NOT_FOUND") || class != 50 || method != 10 {
		t.Errorf("channel.close text %q method %d.%d, want NOT_FOUND - ... on 50.10", text, class, method)
	}
	r.openChannel(1)
	q := name(t, "")
	cleanupQueue(t, q)
	r.queueDeclare(1, q, false)
}

// TestMethodOnUnopenedChannel: 504 CHANNEL_ERROR closes the connection.
func TestMethodOnUnopenedChannel(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.handshake(handshakeOpts{})
	r.sendMethod(5, 50, 10, u16(0), shortstr(name(t, "")), bits(false, false, false, true, false), emptyTable)
	r.expectConnectionClose(504)
}

// TestContentOnUnopenedChannel: a content header on a channel that was
// never opened is a connection error; RabbitMQ 3.10 answers 505
// UNEXPECTED_FRAME "expected method frame, got non method frame instead".
func TestContentOnUnopenedChannel(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.handshake(handshakeOpts{})
	r.send(2, 7, contentHeader(3))
	r.expectConnectionClose(505)
}

// TestHeartbeatOnChannel: a heartbeat frame must be on channel 0; RabbitMQ
// 3.10 answers one on channel 1 with 505 UNEXPECTED_FRAME.
func TestHeartbeatOnChannel(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.open()
	r.send(8, 1, nil)
	r.expectConnectionClose(505)
}

// TestSecondChannelOpen: channel.open on an open channel is 504.
func TestSecondChannelOpen(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.open()
	r.sendMethod(1, 20, 10, shortstr(""))
	r.expectConnectionClose(504)
}

// TestUnknownClass: a method of a class the server does not know is 540
// NOT_IMPLEMENTED.
func TestUnknownClass(t *testing.T) {
	t.Parallel()
	differsFromRabbitMQ(t, "RabbitMQ 3.10 drops the socket without a close for an unknown class")
	r := dialRaw(t)
	r.open()
	r.sendMethod(1, 99, 10)
	r.expectConnectionClose(540)
}

// TestUnknownMethod: an unknown method in a known class is 503
// COMMAND_INVALID.
func TestUnknownMethod(t *testing.T) {
	t.Parallel()
	differsFromRabbitMQ(t, "RabbitMQ 3.10 drops the socket without a close for an unknown method")
	r := dialRaw(t)
	r.open()
	r.sendMethod(1, 50, 99)
	r.expectConnectionClose(503)
}

// TestServerOnlyMethodFromClient: a method only the server sends
// (queue.declare-ok) from a client is 503 COMMAND_INVALID, as in RabbitMQ
// ("unimplemented method").
func TestServerOnlyMethodFromClient(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.open()
	r.sendMethod(1, 50, 11, shortstr("q"), u32(0), u32(0))
	r.expectConnectionClose(503)
}

// TestBadFrameEnd: a frame whose last octet is not 0xCE is 501 FRAME_ERROR.
func TestBadFrameEnd(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.open()
	b := rawFrameBytes(1, 1, methodPayload(50, 10, u16(0), shortstr(name(t, "")), bits(false, false, false, true, false), emptyTable))
	b[len(b)-1] = 0x00
	r.write(b)
	r.expectConnectionClose(501)
}

// TestUnknownFrameType: frame type 9 does not exist; 501 FRAME_ERROR.
func TestUnknownFrameType(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.open()
	r.send(9, 1, []byte{1, 2, 3})
	r.expectConnectionClose(501)
}

// TestHeaderWithoutPublish: a content header with no basic.publish before
// it is 505 UNEXPECTED_FRAME.
func TestHeaderWithoutPublish(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.open()
	r.send(2, 1, contentHeader(5))
	r.expectConnectionClose(505)
}

// TestBodyWithoutHeader: basic.publish followed by a body frame instead of
// a content header is 505.
func TestBodyWithoutHeader(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.open()
	r.sendMethod(1, 60, 40, u16(0), shortstr(""), shortstr("q"), bits(false, false))
	r.send(3, 1, []byte("hello"))
	r.expectConnectionClose(505)
}

// TestMethodInsteadOfHeader: basic.publish followed by another method is 505.
func TestMethodInsteadOfHeader(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.open()
	r.sendMethod(1, 60, 40, u16(0), shortstr(""), shortstr("q"), bits(false, false))
	r.sendMethod(1, 50, 10, u16(0), shortstr(""), bits(false, false, true, true, false), emptyTable)
	r.expectConnectionClose(505)
}

// TestMalformedMethodArgs: method arguments that end early are 501
// FRAME_ERROR "cannot decode", as in RabbitMQ.
func TestMalformedMethodArgs(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.open()
	// queue.declare: reserved short, then a shortstr claiming 40 bytes but
	// holding 3, and nothing after.
	r.sendMethod(1, 50, 10, u16(0), []byte{40, 'a', 'b', 'c'})
	text, class, method := r.expectConnectionClose(501)
	if !hasPrefix(text, "FRAME_ERROR - cannot decode ") || class != 50 || method != 10 {
		t.Errorf("connection.close %q [%d,%d], want FRAME_ERROR - cannot decode ... [50,10]", text, class, method)
	}
}

// TestMalformedTable: a field table with an unknown field type is 501.
func TestMalformedTable(t *testing.T) {
	t.Parallel()
	differsFromRabbitMQ(t, "RabbitMQ 3.10 drops the socket without a close for an undecodable table")
	r := dialRaw(t)
	r.open()
	bad := append(u32(4), 1, 'k', 'Z', 0) // key "k", type 'Z' (no such type)
	r.sendMethod(1, 50, 10, u16(0), shortstr(name(t, "")), bits(false, false, false, true, false), bad)
	r.expectConnectionClose(501)
}

// TestContentOnChannelZero: a content header on channel 0 is 505
// UNEXPECTED_FRAME, as in RabbitMQ.
func TestContentOnChannelZero(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.open()
	r.send(2, 0, contentHeader(1))
	r.expectConnectionClose(505)
}

// TestPrefetchSizeNotImplemented: basic.qos with prefetch_size != 0 is 540
// NOT_IMPLEMENTED, as in RabbitMQ.
func TestPrefetchSizeNotImplemented(t *testing.T) {
	t.Parallel()
	connectionFails(t, amqp.NotImplemented, "basic.qos prefetch_size=1000", func(ch *amqp.Channel) error {
		return ch.Qos(1, 1000, false)
	})
}

// TestImmediatePublishNotImplemented: RabbitMQ refuses basic.publish with
// immediate=true with 540 NOT_IMPLEMENTED "immediate=true".
func TestImmediatePublishNotImplemented(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	closes := c.NotifyClose(make(chan *amqp.Error, 1))
	publishOpts(t, ch, "", q, false, true, amqp.Publishing{Body: []byte("now")})
	waitClosed(t, closes, amqp.NotImplemented, "connection after publish immediate=true")
}

// TestConsumerTagReuse: basic.consume with a tag already used on the
// channel is 530 NOT_ALLOWED, a connection error.
func TestConsumerTagReuse(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	closes := c.NotifyClose(make(chan *amqp.Error, 1))
	consume(t, ch, q, "tag-1", false)
	_, err := ch.Consume(q, "tag-1", false, false, false, false, nil)
	wantCode(t, err, amqp.NotAllowed, "second basic.consume with the same tag")
	waitClosed(t, closes, amqp.NotAllowed, "connection")
}
