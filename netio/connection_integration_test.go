package netio_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestConnectionServerProperties(t *testing.T) {
	t.Parallel()
	c := dial(t)
	if c.Major != 0 || c.Minor != 9 {
		t.Errorf("protocol version %d-%d, want 0-9", c.Major, c.Minor)
	}
	if !external {
		if p, _ := c.Properties["product"].(string); p != "Warren" {
			t.Errorf("server property product = %q, want %q", p, "Warren")
		}
	}
	for _, k := range []string{"version", "platform"} {
		if _, ok := c.Properties[k].(string); !ok {
			t.Errorf("server property %q missing or not a string: %#v", k, c.Properties[k])
		}
	}
	caps, ok := c.Properties["capabilities"].(amqp.Table)
	if !ok {
		t.Fatalf("server properties have no capabilities table: %#v", c.Properties)
	}
	for _, k := range []string{"publisher_confirms", "exchange_exchange_bindings", "basic.nack",
		"consumer_cancel_notify", "authentication_failure_close", "per_consumer_qos"} {
		if v, _ := caps[k].(bool); !v {
			t.Errorf("capability %q = %#v, want true", k, caps[k])
		}
	}
	if len(c.Locales) == 0 || c.Locales[0] != "en_US" {
		t.Errorf("locales %q, want en_US", c.Locales)
	}
}

// TestConnectionStartRaw checks connection.start as sent on the wire:
// version 0-9 and both SASL mechanisms offered.
func TestConnectionStartRaw(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.write([]byte("AMQP\x00\x00\x09\x01"))
	args := r.expect(0, 10, 10)
	if len(args) < 2 || args[0] != 0 || args[1] != 9 {
		t.Fatalf("connection.start version %x, want 0 9", args[:2])
	}
	// skip server-properties table, then mechanisms longstr
	rest := args[2:]
	n := binary.BigEndian.Uint32(rest)
	rest = rest[4+n:]
	ml := binary.BigEndian.Uint32(rest)
	mechs := string(rest[4 : 4+ml])
	for _, m := range []string{"PLAIN", "AMQPLAIN"} {
		if !bytes.Contains([]byte(" "+mechs+" "), []byte(" "+m+" ")) {
			t.Errorf("mechanisms %q lack %s", mechs, m)
		}
	}
}

func TestConnectionAuthPlain(t *testing.T) {
	t.Parallel()
	c, err := dialConfig(t, amqp.Config{SASL: []amqp.Authentication{&amqp.PlainAuth{Username: "guest", Password: "guest"}}})
	if err != nil {
		t.Fatalf("PLAIN login: %v", err)
	}
	connUsable(t, c)
}

func TestConnectionAuthAMQPlain(t *testing.T) {
	t.Parallel()
	c, err := dialConfig(t, amqp.Config{SASL: []amqp.Authentication{&amqp.AMQPlainAuth{Username: "guest", Password: "guest"}}})
	if err != nil {
		t.Fatalf("AMQPLAIN login: %v", err)
	}
	connUsable(t, c)
}

func TestConnectionAuthWrongPassword(t *testing.T) {
	t.Parallel()
	for _, auth := range []amqp.Authentication{
		&amqp.PlainAuth{Username: "guest", Password: "wrong"},
		&amqp.AMQPlainAuth{Username: "guest", Password: "wrong"},
		&amqp.PlainAuth{Username: "nobody", Password: "guest"},
	} {
		c, err := dialConfig(t, amqp.Config{SASL: []amqp.Authentication{auth}})
		if err == nil {
			c.Close()
			t.Fatalf("%s login with bad credentials succeeded", auth.Mechanism())
		}
		wantCode(t, err, amqp.AccessRefused, "login with bad credentials ("+auth.Mechanism()+")")
	}
}

// TestConnectionAuthFailureCloseRaw: a client that announces
// authentication_failure_close gets connection.close 403 after a bad
// start-ok, then the socket closes.
func TestConnectionAuthFailureCloseRaw(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.write([]byte("AMQP\x00\x00\x09\x01"))
	r.expect(0, 10, 10)
	r.startOk(handshakeOpts{mechanism: "PLAIN", response: "\x00guest\x00not-the-password"})
	f, err := r.readFrame()
	if err != nil {
		t.Fatalf("want connection.close 403, read: %v", err)
	}
	if !f.isMethod(10, 50) {
		t.Fatalf("want connection.close 403, got %s", f)
	}
	if code, text, _, _ := parseClose(f.payload[4:]); code != 403 || !hasPrefix(text, "ACCESS_REFUSED") {
		t.Fatalf("connection.close %d %q, want 403 ACCESS_REFUSED", code, text)
	}
	r.expectEOF()
}

// TestConnectionUnknownMechanism: a mechanism the server did not offer
// ends the connection before tune. (RabbitMQ 3.10 closes silently after a
// delay; a connection.close with 403 or 503 is as good.)
func TestConnectionUnknownMechanism(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.write([]byte("AMQP\x00\x00\x09\x01"))
	r.expect(0, 10, 10)
	r.startOk(handshakeOpts{mechanism: "CRAM-MD5", response: "guest"})
	_ = r.nc.SetReadDeadline(time.Now().Add(waitTimeout))
	f, err := r.readFrame()
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("connection still open after start-ok with an unknown mechanism")
		}
		return // closed without a word
	}
	if !f.isMethod(10, 50) {
		t.Fatalf("want the connection closed, got %s", f)
	}
	if code, text, _, _ := parseClose(f.payload[4:]); code != 403 && code != 503 {
		t.Fatalf("connection.close %d %q, want 403 or 503", code, text)
	}
	r.expectEOF()
}

func TestConnectionBadProtocolHeader(t *testing.T) {
	t.Parallel()
	for _, hdr := range []string{
		"AMQP\x00\x00\x0a\x00",   // unknown version
		"AMQP\x00\x00\x09\x02",   // unknown revision
		"AMQP\x00\x01\x00\x00",   // AMQP 1.0
		"AMQP\x03\x01\x00\x00",   // AMQP 1.0 SASL layer
		"XMQP\x00\x00\x09\x01",   // wrong magic
		"GET / HTTP/1.1\r\n\r\n", // not AMQP at all
	} {
		r := dialRaw(t)
		r.write([]byte(hdr))
		got := make([]byte, 8)
		_ = r.nc.SetReadDeadline(time.Now().Add(waitTimeout))
		if _, err := io.ReadFull(r.br, got); err != nil {
			t.Fatalf("header %q: want the server's protocol header, read: %v", hdr, err)
		}
		if string(got) != "AMQP\x00\x00\x09\x01" {
			t.Fatalf("header %q: server answered %q, want %q", hdr, got, "AMQP\x00\x00\x09\x01")
		}
		if n, err := r.br.Read(make([]byte, 1)); err == nil {
			t.Fatalf("header %q: server sent %d more bytes, want the socket closed", hdr, n)
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("header %q: socket not closed within %v", hdr, waitTimeout)
		}
	}
}

// TestConnectionTuneFrameMax: a client asking for a smaller frame_max gets
// it, and large bodies still round-trip in both directions.
func TestConnectionTuneFrameMax(t *testing.T) {
	t.Parallel()
	c, err := dialConfig(t, amqp.Config{FrameSize: 8192})
	if err != nil {
		t.Fatalf("dial with FrameSize 8192: %v", err)
	}
	if c.Config.FrameSize != 8192 {
		t.Fatalf("negotiated frame size %d, want 8192", c.Config.FrameSize)
	}
	ch := channel(t, c)
	q := declareQueue(t, ch, "")
	body := make([]byte, 100<<10)
	_, _ = rand.Read(body)
	publish(t, ch, "", q, amqp.Publishing{Body: body})
	ds := consume(t, ch, q, "", true)
	d := recv(t, ds)
	if !bytes.Equal(d.Body, body) {
		t.Fatalf("100 KiB body did not round-trip with frame_max 8192 (got %d bytes)", len(d.Body))
	}
}

// TestConnectionTuneRawFrames checks on the wire that the server splits a
// body into frames no larger than the negotiated frame_max, and offers the
// defaults in connection.tune.
func TestConnectionTuneRawFrames(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	chMax, frameMax, hb := r.handshake(handshakeOpts{frameMax: 4096})
	if chMax == 0 || frameMax < 4096 {
		t.Fatalf("connection.tune channel_max=%d frame_max=%d", chMax, frameMax)
	}
	if !external && (frameMax != 131072 || hb != 60) {
		t.Errorf("connection.tune frame_max=%d heartbeat=%d, want 131072 and the configured 60", frameMax, hb)
	}
	r.openChannel(1)
	q := name(t, "")
	cleanupQueue(t, q)
	r.queueDeclare(1, q, false)
	body := make([]byte, 10000)
	for i := range body {
		body[i] = byte(i)
	}
	// publish in three body frames that each fit 4096
	r.sendMethod(1, 60, 40, u16(0), shortstr(""), shortstr(q), bits(false, false))
	r.send(2, 1, contentHeader(uint64(len(body))))
	r.send(3, 1, body[:4000])
	r.send(3, 1, body[4000:8000])
	r.send(3, 1, body[8000:])
	r.sendMethod(1, 60, 70, u16(0), shortstr(q), bits(true)) // basic.get no-ack
	r.expect(1, 60, 71)
	var got []byte
	h := r.next()
	if h.typ != 2 || h.ch != 1 {
		t.Fatalf("want content header, got %s", h)
	}
	for len(got) < len(body) {
		_ = r.nc.SetReadDeadline(time.Now().Add(waitTimeout))
		f, err := r.readFrame()
		if err != nil {
			t.Fatalf("reading body: %v", err)
		}
		if f.typ == 8 {
			continue
		}
		if f.typ != 3 {
			t.Fatalf("want body frame, got %s", f)
		}
		if len(f.payload)+8 > 4096 {
			t.Fatalf("body frame of %d bytes exceeds negotiated frame_max 4096", len(f.payload)+8)
		}
		got = append(got, f.payload...)
	}
	if !bytes.Equal(got, body) {
		t.Fatal("body differs after round trip")
	}
}

// TestConnectionFrameTooLarge: a frame larger than the negotiated
// frame_max is a 501 FRAME_ERROR.
func TestConnectionFrameTooLarge(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.handshake(handshakeOpts{frameMax: 4096})
	r.openChannel(1)
	q := name(t, "")
	cleanupQueue(t, q)
	r.queueDeclare(1, q, false)
	r.sendMethod(1, 60, 40, u16(0), shortstr(""), shortstr(q), bits(false, false))
	r.send(2, 1, contentHeader(10000))
	r.send(3, 1, make([]byte, 10000))
	r.expectConnectionClose(501)
}

// TestConnectionHeartbeatTimeout: a client that negotiated heartbeat=1
// and then goes silent is disconnected within a few seconds.
func TestConnectionHeartbeatTimeout(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.handshake(handshakeOpts{heartbeat: 1})
	start := time.Now()
	// Generous bounds: on a loaded machine the server's ticker runs late;
	// the check is that a silent client is dropped, and not too early.
	_ = r.nc.SetReadDeadline(time.Now().Add(waitTimeout))
	sawHeartbeat := false
	for {
		f, err := r.readFrame()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("silent client still connected after %v", time.Since(start))
			}
			break
		}
		if f.typ == 8 {
			sawHeartbeat = true
			continue
		}
		if f.isMethod(10, 50) { // a close before dropping is fine too
			continue
		}
		t.Fatalf("unexpected %s while silent", f)
	}
	el := time.Since(start)
	if el < 1500*time.Millisecond {
		t.Fatalf("silent client with heartbeat=1 closed after %v, want about 2-3 s", el)
	}
	if !sawHeartbeat {
		t.Error("server sent no heartbeat frame in the heartbeat=1 interval")
	}
}

// TestConnectionHeartbeatKeepsAlive: a client that heartbeats is not
// dropped, and an idle connection stays usable.
func TestConnectionHeartbeatKeepsAlive(t *testing.T) {
	t.Parallel()
	c, err := dialConfig(t, amqp.Config{Heartbeat: time.Second})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	closes := c.NotifyClose(make(chan *amqp.Error, 1))
	select {
	case e := <-closes:
		t.Fatalf("heartbeating connection closed: %v", e)
	case <-time.After(3500 * time.Millisecond):
	}
	connUsable(t, c)
}

func TestConnectionVhostNotFound(t *testing.T) {
	t.Parallel()
	c, err := dialConfig(t, amqp.Config{Vhost: "no-such-vhost-" + runID})
	if err == nil {
		c.Close()
		t.Fatal("open of a missing vhost succeeded")
	}
	wantCode(t, err, amqp.NotAllowed, "connection.open of a missing vhost")

	r := dialRaw(t)
	r.write([]byte("AMQP\x00\x00\x09\x01"))
	r.expect(0, 10, 10)
	r.startOk(handshakeOpts{})
	r.expect(0, 10, 30)
	r.sendMethod(0, 10, 31, u16(2047), u32(131072), u16(0))
	r.sendMethod(0, 10, 40, shortstr("no-such-vhost"), shortstr(""), []byte{0})
	f := r.next()
	if !f.isMethod(10, 50) {
		t.Fatalf("want connection.close 530, got %s", f)
	}
	if code, text, _, _ := parseClose(f.payload[4:]); code != 530 {
		t.Fatalf("connection.close %d %q, want 530 NOT_ALLOWED", code, text)
	}
}

// TestConnectionCleanClose: Close returns nil and NotifyClose is closed
// without an error. RabbitMQ leaves closing the socket to the client after
// close-ok; a server that drops it at once makes amqp091-go's reader see EOF
// first and report a 501 "EOF" error to NotifyClose (a race, so the check
// runs a few times).
func TestConnectionCleanClose(t *testing.T) {
	t.Parallel()
	_, ch0 := connChan(t)
	q := declareQueue(t, ch0, "")
	for i := 0; i < 10; i++ {
		c, err := dialConfig(t, amqp.Config{})
		if err != nil {
			t.Fatal(err)
		}
		closes := c.NotifyClose(make(chan *amqp.Error, 1))
		ch := channel(t, c)
		publishText(t, ch, "", q, itoa(i))
		if err := c.Close(); err != nil {
			t.Fatalf("connection.close #%d: %v", i, err)
		}
		select {
		case e, ok := <-closes:
			if ok && e != nil {
				t.Fatalf("clean close #%d reported error %v", i, e)
			}
		case <-time.After(waitTimeout):
			t.Fatal("NotifyClose not signalled after Close")
		}
		if !c.IsClosed() {
			t.Fatal("connection not closed")
		}
	}
	// The messages published before each close are kept.
	waitMessages(t, dial(t), q, 10)

	// Raw: connection.close gets close-ok.
	r := dialRaw(t)
	r.open()
	r.sendMethod(0, 10, 50, u16(200), shortstr("bye"), u16(0), u16(0))
	r.expect(0, 10, 51)
}

// TestConnectionManyChannels works on 100 channels of one connection at once.
func TestConnectionManyChannels(t *testing.T) {
	t.Parallel()
	c := dial(t)
	const n = 100
	chs := make([]*amqp.Channel, n)
	qs := make([]string, n)
	for i := range chs {
		chs[i] = channel(t, c)
		qs[i] = declareQueue(t, chs[i], string(rune('a'+i%26))+"-"+itoa(i))
	}
	errc := make(chan error, n)
	for i := range chs {
		go func(i int) {
			ch := chs[i]
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			for j := 0; j < 5; j++ {
				if err := ch.PublishWithContext(ctx, "", qs[i], false, false, amqp.Publishing{Body: []byte(itoa(i*10 + j))}); err != nil {
					errc <- err
					return
				}
			}
			for j := 0; j < 5; j++ {
				d, ok, err := ch.Get(qs[i], true)
				if err != nil {
					errc <- err
					return
				}
				if !ok || string(d.Body) != itoa(i*10+j) {
					errc <- &amqp.Error{Reason: "channel " + itoa(i) + ": wrong message " + string(d.Body)}
					return
				}
			}
			errc <- nil
		}(i)
	}
	for range chs {
		select {
		case err := <-errc:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(2 * waitTimeout):
			t.Fatal("channels did not finish")
		}
	}
	for _, ch := range chs {
		if err := ch.Close(); err != nil {
			t.Fatalf("channel.close: %v", err)
		}
	}
	connUsable(t, c)
}

// TestConnectionShutdown: stopping the server closes clients with 320
// CONNECTION_FORCED.
func TestConnectionShutdown(t *testing.T) {
	needLocal(t)
	t.Parallel()
	in := startTestInstance(t, t.TempDir())
	c, err := dialURL(t, in.url, amqp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare("q", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	closes := c.NotifyClose(make(chan *amqp.Error, 1))
	stopped := make(chan error, 1)
	go func() { stopped <- in.stop() }()
	e := waitClosed(t, closes, amqp.ConnectionForced, "connection at server shutdown")
	if !hasPrefix(e.Reason, "CONNECTION_FORCED") {
		t.Errorf("shutdown reply text %q, want CONNECTION_FORCED - ...", e.Reason)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("stop: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("stop hung")
	}
	if _, err := net.DialTimeout("tcp", in.addr, time.Second); err == nil {
		t.Error("listener still accepts connections after Stop")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
