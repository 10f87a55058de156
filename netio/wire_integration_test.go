package netio_test

// Error answers on the wire exactly as RabbitMQ 3.10 gives them: reply
// code, reply text, the class and method in the close, and who closes the
// socket when. Clients, log scrapers and operators match on these, so every
// test here passes against RabbitMQ too (WARREN_IT_URL); the expected texts
// were read off RabbitMQ 3.10.8.

import (
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// differsFromRabbitMQ skips a test against another broker when Warren
// deliberately answers differently from RabbitMQ; why says how.
func differsFromRabbitMQ(t *testing.T, why string) {
	t.Helper()
	if external {
		t.Skip("Warren differs from RabbitMQ here: " + why)
	}
}

// wantClose checks a close's text and class/method.
func wantClose(t *testing.T, what, text string, class, method uint16, wantText string, wantClass, wantMethod uint16) {
	t.Helper()
	if text != wantText || class != wantClass || method != wantMethod {
		t.Errorf("%s: close %q [%d,%d], want %q [%d,%d]", what, text, class, method, wantText, wantClass, wantMethod)
	}
}

// wantClosePrefix is wantClose for texts whose tail RabbitMQ words in
// Erlang terms ("type 8, all octets = <<>>: ..."): the code's name and
// the class/method must match.
func wantClosePrefix(t *testing.T, what, text string, class, method uint16, prefix string, wantClass, wantMethod uint16) {
	t.Helper()
	if !strings.HasPrefix(text, prefix) || strings.Count(text, " - ") != 1 || class != wantClass || method != wantMethod {
		t.Errorf("%s: close %q [%d,%d], want %q... [%d,%d]", what, text, class, method, prefix, wantClass, wantMethod)
	}
}

// expectSilentClose checks the server closes the socket within limit
// without sending anything but heartbeats.
func (r *rawConn) expectSilentClose(limit time.Duration) time.Duration {
	r.t.Helper()
	start := time.Now()
	_ = r.nc.SetReadDeadline(start.Add(limit))
	for {
		f, err := r.readFrame()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				r.t.Fatalf("socket still open after %v", limit)
			}
			return time.Since(start)
		}
		if f.typ != 8 {
			if f.isMethod(10, 50) {
				code, text, class, method := parseClose(f.payload[4:])
				r.t.Fatalf("want the socket closed without a word, got connection.close %d %q [%d,%d]", code, text, class, method)
			}
			r.t.Fatalf("want the socket closed without a word, got %s", f)
		}
	}
}

// wireCase is one connection of a test whose cases wait on the server's
// timers (3 s, 10 s).
type wireCase struct {
	name  string
	start func(r *rawConn)
	check func(t *testing.T, r *rawConn)
}

// runTogether starts every case's connection, then checks them all at
// once, so the waits overlap whatever -parallel allows (GOMAXPROCS, 2
// here: the subtests do not call Parallel, t.Run from goroutines is fine).
func runTogether(t *testing.T, cases []wireCase) {
	t.Helper()
	rs := make([]*rawConn, len(cases))
	for i, c := range cases {
		rs[i] = dialRaw(t)
		c.start(rs[i])
	}
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(c.name, func(t *testing.T) {
				rs[i].t = t
				c.check(t, rs[i])
			})
		}()
	}
	wg.Wait()
}

// silentLimit bounds RabbitMQ's 3 s silent-close delay generously.
const silentLimit = 3*time.Second + waitTimeout

// TestWireFrameErrors: frames that break the framing are 501 FRAME_ERROR
// with class/method 0, and the server drops the socket (RabbitMQ reads
// nothing more, close-ok included, and closes after 3 s).
func TestWireFrameErrors(t *testing.T) {
	t.Parallel()
	badEnd := rawFrameBytes(8, 0, nil)
	badEnd[len(badEnd)-1] = 0
	var cases []wireCase
	for _, tc := range []struct {
		name      string
		wire      []byte
		delimited bool
	}{
		{"bad frame-end", badEnd, false},
		{"unknown frame type", rawFrameBytes(9, 0, nil), true},
		{"larger than frame_max", rawFrameBytes(1, 1, make([]byte, 200000)), false},
		{"heartbeat with a payload", rawFrameBytes(8, 0, []byte{1, 2, 3}), true},
	} {
		cases = append(cases, wireCase{tc.name,
			func(r *rawConn) { r.open(); r.write(tc.wire) },
			func(t *testing.T, r *rawConn) {
				sent := time.Now() // the checks start together, just after the writes
				text, class, method := r.expectConnectionClose(501)
				wantClosePrefix(t, tc.name, text, class, method, "FRAME_ERROR - ", 0, 0)
				// A frame that is still delimited leaves the stream readable:
				// close-ok is read and ends the connection at once. After a
				// broken framing nothing is read: the socket goes after 3 s.
				if d := time.Since(sent); tc.delimited && d > 2500*time.Millisecond {
					t.Errorf("socket closed %v after close-ok, want at once", d)
				} else if !tc.delimited && d < 2*time.Second {
					t.Errorf("socket closed %v after the error, want RabbitMQ's 3 s", d)
				}
			}})
	}
	runTogether(t, cases)
}

// TestWireHeartbeatOnChannel: a heartbeat must be on channel 0; on another
// it is 505 UNEXPECTED_FRAME with class/method 0.
func TestWireHeartbeatOnChannel(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.open()
	r.send(8, 1, nil)
	text, class, method := r.expectConnectionClose(505)
	wantClosePrefix(t, "heartbeat on channel 1", text, class, method, "UNEXPECTED_FRAME - ", 0, 0)
}

// TestWireAckUnknownTag: the reply text carries the code's name once.
func TestWireAckUnknownTag(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.open()
	r.sendMethod(1, 60, 80, binary.BigEndian.AppendUint64(nil, 5), bits(false))
	text, class, method := r.expectChannelClose(1, 406)
	wantClose(t, "basic.ack of tag 5", text, class, method, "PRECONDITION_FAILED - unknown delivery tag 5", 60, 80)
	// The connection carries on.
	r.openChannel(2)
}

// TestWireUnopenedChannel: a method on a channel never opened is 504 naming
// that method.
func TestWireUnopenedChannel(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.handshake(handshakeOpts{})
	r.sendMethod(5, 50, 10, u16(0), shortstr(name(t, "")), bits(false, false, false, true, false), emptyTable)
	text, class, method := r.expectConnectionClose(504)
	wantClose(t, "queue.declare on channel 5", text, class, method, "CHANNEL_ERROR - expected 'channel.open'", 50, 10)
}

// TestWireChannelMethodOnChannelZero: a channel method on channel 0.
func TestWireChannelMethodOnChannelZero(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.handshake(handshakeOpts{})
	r.sendMethod(0, 50, 10, u16(0), shortstr(name(t, "")), bits(false, false, false, true, false), emptyTable)
	text, class, method := r.expectConnectionClose(504)
	wantClose(t, "queue.declare on channel 0", text, class, method,
		"CHANNEL_ERROR - unexpected method in connection state running", 50, 10)
}

// TestWireMalformedArguments: arguments that do not decode are 501
// "FRAME_ERROR - cannot decode ..." naming the method.
func TestWireMalformedArguments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		class, method uint16
		args          []byte
	}{
		{"queue.declare cut short", 50, 10, append(u16(0), shortstr("q")...)},
		{"queue.declare with trailing bytes", 50, 10, append(append(append(u16(0), shortstr(name(t, "trail"))...), 0, 0, 0, 0, 0), 1, 2)},
		{"basic.ack cut short", 60, 80, u32(7)},
		{"basic.publish cut short", 60, 40, append(u16(0), shortstr("")...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := dialRaw(t)
			r.open()
			r.sendMethod(1, tc.class, tc.method, tc.args)
			text, class, method := r.expectConnectionClose(501)
			wantClosePrefix(t, tc.name, text, class, method, "FRAME_ERROR - cannot decode ", tc.class, tc.method)
		})
	}
}

// TestWireNameNotUTF8: a shortstr argument that is not UTF-8 closes the
// connection with 501 "Malformed UTF-8 in shortstr", class/method 0 (a
// durable queue "q\xff" would otherwise be stored as "q\ufffd", one name
// with "q\xfe").
func TestWireNameNotUTF8(t *testing.T) {
	t.Parallel()
	q := name(t, "") + "\xff"
	for _, tc := range []struct {
		name          string
		class, method uint16
		args          [][]byte
	}{
		{"queue.declare", 50, 10, [][]byte{u16(0), shortstr(q), bits(false, true), emptyTable}},
		{"exchange.declare name", 40, 10, [][]byte{u16(0), shortstr(q), shortstr("direct"), bits(false), emptyTable}},
		{"exchange.declare type", 40, 10, [][]byte{u16(0), shortstr(name(t, "x")), shortstr("dir\xff"), bits(false), emptyTable}},
		{"queue.bind routing key", 50, 20, [][]byte{u16(0), shortstr(name(t, "nq")), shortstr("amq.direct"), shortstr("k\xfe"), bits(false), emptyTable}},
		{"basic.consume tag", 60, 20, [][]byte{u16(0), shortstr(name(t, "nq")), shortstr("t\xc0"), bits(false), emptyTable}},
		{"basic.get queue", 60, 70, [][]byte{u16(0), shortstr(q), bits(false)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := dialRaw(t)
			r.open()
			r.sendMethod(1, tc.class, tc.method, tc.args...)
			text, class, method := r.expectConnectionClose(501)
			wantClose(t, tc.name, text, class, method, "FRAME_ERROR - Malformed UTF-8 in shortstr", 0, 0)
		})
	}
	t.Run("channel.open", func(t *testing.T) {
		t.Parallel()
		r := dialRaw(t)
		r.handshake(handshakeOpts{})
		r.sendMethod(1, 20, 10, shortstr("\xff"))
		text, class, method := r.expectConnectionClose(501)
		wantClose(t, "channel.open", text, class, method, "FRAME_ERROR - Malformed UTF-8 in shortstr", 0, 0)
	})
	// During the handshake RabbitMQ names the method.
	t.Run("connection.open", func(t *testing.T) {
		t.Parallel()
		r := dialRaw(t)
		chMax, fMax := r.startTune()
		r.sendMethod(0, 10, 31, u16(chMax), u32(fMax), u16(0))
		r.sendMethod(0, 10, 40, shortstr("/\xff"), shortstr(""), []byte{0})
		text, class, method := r.expectConnectionClose(501)
		wantClose(t, "connection.open", text, class, method, "FRAME_ERROR - Malformed UTF-8 in shortstr", 10, 40)
	})
}

// TestWirePublishNameNotUTF8: basic.publish's exchange and routing key are
// bytes to RabbitMQ: a routing key that is not UTF-8 is routed (and
// returned unroutable, intact), an exchange that is not UTF-8 is looked up
// and not found.
func TestWirePublishNameNotUTF8(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.open()
	rk := name(t, "rk") + "\xff"
	r.sendMethod(1, 60, 40, u16(0), shortstr(""), shortstr(rk), bits(true, false))
	r.send(2, 1, contentHeader(1))
	r.send(3, 1, []byte("x"))
	ret := r.expect(1, 60, 50)
	code := binary.BigEndian.Uint16(ret)
	text, rest := parseShortstr(ret[2:])
	x, rest := parseShortstr(rest)
	gotRK, _ := parseShortstr(rest)
	if code != 312 || text != "NO_ROUTE" || x != "" || gotRK != rk {
		t.Fatalf("basic.return %d %q exchange %q routing key %q, want 312 NO_ROUTE \"\" %q", code, text, x, gotRK, rk)
	}
	r.next() // content header
	r.next() // body

	ex := name(t, "x") + "\xff"
	r.publish(1, ex, "rk", []byte("x"))
	text, class, method := r.expectChannelClose(1, 404)
	wantClose(t, "publish to a missing exchange", text, class, method, "NOT_FOUND - no exchange '"+ex+"' in vhost '/'", 60, 40)
}

// TestWireUnexpectedContent: frames out of a publish's order are 505 with
// RabbitMQ's texts; once basic.publish came the close names it.
func TestWireUnexpectedContent(t *testing.T) {
	t.Parallel()
	publish := methodPayload(60, 40, u16(0), shortstr(""), shortstr("rk"), bits(false, false))
	declare := methodPayload(50, 10, u16(0), shortstr(""), bits(false, false, true, true, false), emptyTable)
	classHeader := func(class uint16) []byte {
		h := contentHeader(1)
		binary.BigEndian.PutUint16(h, class)
		return h
	}
	for _, tc := range []struct {
		name          string
		frames        [][]byte
		text          string
		class, method uint16
	}{
		{"header without publish", [][]byte{rawFrameBytes(2, 1, contentHeader(1))},
			"UNEXPECTED_FRAME - expected method frame, got non method frame instead", 0, 0},
		{"body without publish", [][]byte{rawFrameBytes(3, 1, []byte("x"))},
			"UNEXPECTED_FRAME - expected method frame, got non method frame instead", 0, 0},
		{"method instead of header", [][]byte{rawFrameBytes(1, 1, publish), rawFrameBytes(1, 1, declare)},
			"UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead", 60, 40},
		{"body instead of header", [][]byte{rawFrameBytes(1, 1, publish), rawFrameBytes(3, 1, []byte("x"))},
			"UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead", 60, 40},
		{"header of class 50", [][]byte{rawFrameBytes(1, 1, publish), rawFrameBytes(2, 1, classHeader(50))},
			"UNEXPECTED_FRAME - expected content header for class 60, got one for class 50 instead", 60, 40},
		{"method instead of body", [][]byte{rawFrameBytes(1, 1, publish), rawFrameBytes(2, 1, contentHeader(5)), rawFrameBytes(1, 1, declare)},
			"UNEXPECTED_FRAME - expected content body, got non content body frame instead", 60, 40},
		{"header instead of body", [][]byte{rawFrameBytes(1, 1, publish), rawFrameBytes(2, 1, contentHeader(5)), rawFrameBytes(2, 1, contentHeader(5))},
			"UNEXPECTED_FRAME - expected content body, got non content body frame instead", 60, 40},
		{"content on channel 0", [][]byte{rawFrameBytes(2, 0, contentHeader(1))}, "UNEXPECTED_FRAME - ", 0, 0},
		{"content on an unopened channel", [][]byte{rawFrameBytes(2, 7, contentHeader(1))},
			"UNEXPECTED_FRAME - expected method frame, got non method frame instead", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := dialRaw(t)
			r.open()
			for _, f := range tc.frames {
				r.write(f)
			}
			text, class, method := r.expectConnectionClose(505)
			if strings.HasSuffix(tc.text, " - ") {
				wantClosePrefix(t, tc.name, text, class, method, tc.text, tc.class, tc.method)
			} else {
				wantClose(t, tc.name, text, class, method, tc.text, tc.class, tc.method)
			}
		})
	}
}

// startTune sends the protocol header and a start-ok that announces
// authentication_failure_close and returns the server's tune.
func (r *rawConn) startTune() (uint16, uint32) {
	r.t.Helper()
	r.write([]byte("AMQP\x00\x00\x09\x01"))
	r.expect(0, 10, 10)
	r.startOk(handshakeOpts{})
	tune := r.expect(0, 10, 30)
	return binary.BigEndian.Uint16(tune), binary.BigEndian.Uint32(tune[2:])
}

// TestWireTuneOkRefused: tune-ok may lower the server's limits but not
// raise them, and 0 ("no limit") raises them; frame_max must be at least
// 4096. RabbitMQ answers a refused tune-ok with nothing: no open-ok, no
// close, the socket dropped after 3 s.
func TestWireTuneOkRefused(t *testing.T) {
	t.Parallel()
	var cases []wireCase
	for _, tc := range []struct {
		name string
		tune func(chMax uint16, fMax uint32) (uint16, uint32)
	}{
		{"frame_max below 4096", func(c uint16, f uint32) (uint16, uint32) { return c, 4095 }},
		{"frame_max above the proposal", func(c uint16, f uint32) (uint16, uint32) { return c, f + 1 }},
		{"frame_max 0", func(c uint16, f uint32) (uint16, uint32) { return c, 0 }},
		{"channel_max above the proposal", func(c uint16, f uint32) (uint16, uint32) { return c + 1, f }},
		{"channel_max 0", func(c uint16, f uint32) (uint16, uint32) { return 0, f }},
	} {
		cases = append(cases, wireCase{tc.name,
			func(r *rawConn) {
				c, f := tc.tune(r.startTune())
				r.sendMethod(0, 10, 31, u16(c), u32(f), u16(0))
				r.sendMethod(0, 10, 40, shortstr("/"), shortstr(""), []byte{0})
			},
			func(t *testing.T, r *rawConn) { r.expectSilentClose(silentLimit) }})
	}
	runTogether(t, cases)
	// The proposal itself, and anything lower down to 4096, is fine.
	for _, lower := range []bool{false, true} {
		r := dialRaw(t)
		c, f := r.startTune()
		if lower {
			c, f = 1, 4096
		}
		r.sendMethod(0, 10, 31, u16(c), u32(f), u16(0))
		r.sendMethod(0, 10, 40, shortstr("/"), shortstr(""), []byte{0})
		r.expect(0, 10, 41)
	}
}

// TestWireStartingErrors: before tune-ok RabbitMQ trusts the peer with no
// answer at all, except a refused login the client asked to hear about.
func TestWireStartingErrors(t *testing.T) {
	t.Parallel()
	noCaps := table("product", stringField("warren-it-raw"))
	var cases []wireCase
	for _, tc := range []struct {
		name string
		args [][]byte
		id   [2]uint16
	}{
		{"tune-ok instead of start-ok", [][]byte{u16(0), u32(131072), u16(0)}, [2]uint16{10, 31}},
		{"unknown mechanism", [][]byte{noCaps, shortstr("CRAM-MD5"), longstr("guest"), shortstr("en_US")}, [2]uint16{10, 11}},
		{"wrong password without authentication_failure_close", [][]byte{noCaps, shortstr("PLAIN"), longstr("\x00guest\x00wrong"), shortstr("en_US")}, [2]uint16{10, 11}},
		{"start-ok cut short", [][]byte{noCaps, shortstr("PLAIN")}, [2]uint16{10, 11}},
		{"locale not UTF-8", [][]byte{noCaps, shortstr("PLAIN"), longstr("\x00guest\x00guest"), shortstr("en\xff")}, [2]uint16{10, 11}},
	} {
		cases = append(cases, wireCase{tc.name,
			func(r *rawConn) {
				r.write([]byte("AMQP\x00\x00\x09\x01"))
				r.expect(0, 10, 10)
				r.sendMethod(0, tc.id[0], tc.id[1], tc.args...)
			},
			func(t *testing.T, r *rawConn) { r.expectSilentClose(silentLimit) }})
	}
	// With authentication_failure_close announced, only wrong credentials
	// are answered; a response or mechanism that does not parse is not.
	for _, o := range []handshakeOpts{
		{mechanism: "CRAM-MD5", response: "guest"},
		{mechanism: "PLAIN", response: "garbage"},
		{mechanism: "PLAIN", response: "guest\x00guest\x00guest"}, // an authzid
		{mechanism: "AMQPLAIN", response: "\x05LOGINx"},
	} {
		cases = append(cases, wireCase{"announcing authentication_failure_close, " + o.mechanism + " " + strings.ReplaceAll(o.response, "\x00", "\\0"),
			func(r *rawConn) {
				r.write([]byte("AMQP\x00\x00\x09\x01"))
				r.expect(0, 10, 10)
				r.startOk(o)
			},
			func(t *testing.T, r *rawConn) { r.expectSilentClose(silentLimit) }})
	}
	badEnd := rawFrameBytes(8, 0, nil)
	badEnd[len(badEnd)-1] = 0
	cases = append(cases, wireCase{"bad frame before start-ok",
		func(r *rawConn) {
			r.write([]byte("AMQP\x00\x00\x09\x01"))
			r.expect(0, 10, 10)
			r.write(badEnd)
		},
		func(t *testing.T, r *rawConn) { r.expectSilentClose(silentLimit) }})
	runTogether(t, cases)
	t.Run("wrong password with authentication_failure_close", func(t *testing.T) {
		t.Parallel()
		r := dialRaw(t)
		r.write([]byte("AMQP\x00\x00\x09\x01"))
		r.expect(0, 10, 10)
		r.startOk(handshakeOpts{mechanism: "PLAIN", response: "\x00guest\x00wrong"})
		text, class, method := r.expectConnectionClose(403)
		wantClose(t, "refused login", text, class, method,
			"ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.", 0, 0)
	})
	t.Run("wrong AMQPLAIN password with authentication_failure_close", func(t *testing.T) {
		t.Parallel()
		r := dialRaw(t)
		r.write([]byte("AMQP\x00\x00\x09\x01"))
		r.expect(0, 10, 10)
		r.startOk(handshakeOpts{mechanism: "AMQPLAIN", response: "\x05LOGINS\x00\x00\x00\x05guest\x08PASSWORDS\x00\x00\x00\x05wrong"})
		text, class, method := r.expectConnectionClose(403)
		wantClose(t, "refused login", text, class, method,
			"ACCESS_REFUSED - Login was refused using authentication mechanism AMQPLAIN. For details see the broker logfile.", 0, 0)
	})
}

// TestWireOpeningErrors: after tune-ok errors are closes that name the
// method; RabbitMQ refuses even connection.close before open.
func TestWireOpeningErrors(t *testing.T) {
	t.Parallel()
	vhost := "no-such-vhost-" + runID
	for _, tc := range []struct {
		name          string
		class, method uint16
		args          [][]byte
		code          uint16
		text          string
	}{
		{"second tune-ok", 10, 31, [][]byte{u16(1), u32(4096), u16(0)}, 504, "CHANNEL_ERROR - unexpected method in connection state opening"},
		{"connection.close", 10, 50, [][]byte{u16(200), shortstr("bye"), u16(0), u16(0)}, 504, "CHANNEL_ERROR - unexpected method in connection state opening"},
		{"missing vhost", 10, 40, [][]byte{shortstr(vhost), shortstr(""), []byte{0}}, 530, "NOT_ALLOWED - vhost " + vhost + " not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := dialRaw(t)
			chMax, fMax := r.startTune()
			r.sendMethod(0, 10, 31, u16(chMax), u32(fMax), u16(0))
			r.sendMethod(0, tc.class, tc.method, tc.args...)
			text, class, method := r.expectConnectionClose(tc.code)
			wantClose(t, tc.name, text, class, method, tc.text, tc.class, tc.method)
		})
	}
	t.Run("frame on channel 1", func(t *testing.T) {
		t.Parallel()
		r := dialRaw(t)
		chMax, fMax := r.startTune()
		r.sendMethod(0, 10, 31, u16(chMax), u32(fMax), u16(0))
		r.sendMethod(1, 20, 10, shortstr(""))
		text, class, method := r.expectConnectionClose(505)
		wantClosePrefix(t, "channel.open before connection.open", text, class, method, "UNEXPECTED_FRAME - ", 0, 0)
	})
	t.Run("heartbeat with a payload", func(t *testing.T) {
		t.Parallel()
		r := dialRaw(t)
		chMax, fMax := r.startTune()
		r.sendMethod(0, 10, 31, u16(chMax), u32(fMax), u16(0))
		r.send(8, 0, []byte{1})
		text, class, method := r.expectConnectionClose(501)
		wantClosePrefix(t, "heartbeat with a payload", text, class, method, "FRAME_ERROR - ", 0, 0)
	})
}

// TestWireConnectionErrorWaitsForCloseOk: after a connection.close for an
// error the server keeps the socket for the client's close-ok (RabbitMQ for
// 30 s), so the client reads the close before EOF.
func TestWireConnectionErrorWaitsForCloseOk(t *testing.T) {
	t.Parallel()
	r := dialRaw(t)
	r.handshake(handshakeOpts{})
	r.sendMethod(5, 50, 10, u16(0), shortstr(name(t, "")), bits(false, false, false, true, false), emptyTable)
	f := r.next()
	if !f.isMethod(10, 50) {
		t.Fatalf("want connection.close, got %s", f)
	}
	// Still open well past the 3 s silent-close delay (and short of the
	// 30 s the server waits for close-ok).
	_ = r.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if f, err := r.readFrame(); err == nil {
		t.Fatalf("frame after connection.close: %s", f)
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("socket closed before close-ok: %v", err)
	}
	_ = r.nc.SetDeadline(time.Now().Add(waitTimeout))
	r.sendMethod(0, 10, 51)
	r.expectEOF()
}

// TestWireHandshakeTimeout: RabbitMQ's default handshake_timeout, 10 s from
// the connection to connection.open: a peer short of open by then is
// dropped without a word, wherever it stopped.
func TestWireHandshakeTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 10 s")
	}
	t.Parallel()
	start := time.Now()
	dropped := func(t *testing.T, r *rawConn) {
		r.expectSilentClose(20 * time.Second)
		if d := time.Since(start); d < 9*time.Second {
			t.Errorf("dropped after %v, want RabbitMQ's 10 s", d)
		}
	}
	runTogether(t, []wireCase{
		{"nothing sent", func(r *rawConn) {}, dropped},
		{"half a protocol header", func(r *rawConn) { r.write([]byte("AMQ")) }, dropped},
		{"protocol header, then silence", func(r *rawConn) {
			r.write([]byte("AMQP\x00\x00\x09\x01"))
			r.expect(0, 10, 10)
		}, dropped},
		{"tune-ok, then silence", func(r *rawConn) {
			chMax, fMax := r.startTune()
			r.sendMethod(0, 10, 31, u16(chMax), u32(fMax), u16(0))
		}, dropped},
	})
}

// TestWireChannelMethodErrors: the texts and class/method of the channel
// and connection errors a client library can provoke.
func TestWireChannelMethodErrors(t *testing.T) {
	t.Parallel()
	tag := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	for _, tc := range []struct {
		name          string
		ch            uint16
		frames        [][]byte
		connection    bool
		code          uint16
		text          string
		class, method uint16
	}{
		{"second channel.open", 1, [][]byte{methodPayload(20, 10, shortstr(""))}, true, 504, "CHANNEL_ERROR - second 'channel.open' seen", 20, 10},
		{"channel.flow active=false", 1, [][]byte{methodPayload(20, 20, bits(false))}, true, 540, "NOT_IMPLEMENTED - active=false", 20, 20},
		{"basic.qos prefetch_size", 1, [][]byte{methodPayload(60, 10, u32(1000), u16(1), bits(false))}, true, 540, "NOT_IMPLEMENTED - prefetch_size!=0 (1000)", 60, 10},
		{"basic.recover requeue=false", 1, [][]byte{methodPayload(60, 110, bits(false))}, true, 540, "NOT_IMPLEMENTED - requeue=false", 60, 110},
		{"server-only method", 1, [][]byte{methodPayload(50, 11, shortstr("q"), u32(0), u32(0))}, true, 503, "COMMAND_INVALID - unimplemented method", 50, 11},
		{"tx.commit without tx.select", 1, [][]byte{methodPayload(90, 20)}, false, 406, "PRECONDITION_FAILED - channel is not transactional", 90, 20},
		{"tx.rollback without tx.select", 1, [][]byte{methodPayload(90, 30)}, false, 406, "PRECONDITION_FAILED - channel is not transactional", 90, 30},
		{"confirm.select after tx.select", 1, [][]byte{methodPayload(90, 10), methodPayload(85, 10, bits(false))}, false, 406, "PRECONDITION_FAILED - cannot switch from tx to confirm mode", 85, 10},
		{"tx.select after confirm.select", 1, [][]byte{methodPayload(85, 10, bits(false)), methodPayload(90, 10)}, false, 406, "PRECONDITION_FAILED - cannot switch from confirm to tx mode", 90, 10},
		{"basic.reject of an unknown tag", 1, [][]byte{methodPayload(60, 90, tag(9), bits(false))}, false, 406, "PRECONDITION_FAILED - unknown delivery tag 9", 60, 90},
		{"basic.nack of an unknown tag", 1, [][]byte{methodPayload(60, 120, tag(9), bits(false))}, false, 406, "PRECONDITION_FAILED - unknown delivery tag 9", 60, 120},
		{"tune-ok when running", 0, [][]byte{methodPayload(10, 31, u16(1), u32(4096), u16(0))}, true, 504, "CHANNEL_ERROR - unexpected method in connection state running", 10, 31},
		{"unsolicited close-ok", 0, [][]byte{methodPayload(10, 51)}, true, 504, "CHANNEL_ERROR - unexpected method in connection state running", 10, 51},
		{"connection.blocked from a client", 0, [][]byte{methodPayload(10, 60, shortstr("x"))}, true, 504, "CHANNEL_ERROR - unexpected method in connection state running", 10, 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := dialRaw(t)
			r.open()
			for _, p := range tc.frames {
				r.send(1, tc.ch, p)
			}
			var text string
			var class, method uint16
			if tc.connection {
				text, class, method = r.expectConnectionClose(tc.code)
			} else {
				text, class, method = r.expectChannelClose(1, tc.code)
			}
			wantClose(t, tc.name, text, class, method, tc.text, tc.class, tc.method)
		})
	}
	t.Run("consumer tag reused", func(t *testing.T) {
		t.Parallel()
		r := dialRaw(t)
		r.open()
		q := name(t, "")
		cleanupQueue(t, q)
		r.queueDeclare(1, q, false)
		consume := methodPayload(60, 20, u16(0), shortstr(q), shortstr("t1"), bits(false), emptyTable)
		r.send(1, 1, consume)
		r.expect(1, 60, 21)
		r.send(1, 1, consume)
		text, class, method := r.expectConnectionClose(530)
		wantClose(t, "second basic.consume t1", text, class, method, "NOT_ALLOWED - attempt to reuse consumer tag 't1'", 60, 20)
	})
}
