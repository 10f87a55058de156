package netio_test

// Shared harness for the integration tests (*_integration_test.go).
//
// TestMain starts one in-process Warren (broker + netio server on a
// loopback port the kernel picks) for the whole test binary. Tests that
// need a server of their own (restart, shutdown) start one with
// startTestInstance.
//
// Setting WARREN_IT_URL (e.g. amqp://guest:guest@127.0.0.1:5672/) runs the
// same tests against another broker, such as a real RabbitMQ, to check that
// the tests expect what RabbitMQ does. Tests that need the in-process broker
// (restart, shutdown, the configured max message size) call needLocal and
// are skipped in that mode only.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/netio"
)

// maxMessageSize is the shared instance's MaxMessageSize: small, so the
// "message too large" test is cheap, and exactly 1 MiB so the 1 MiB body
// test sits on the boundary.
const maxMessageSize = 1 << 20

// waitTimeout bounds every wait for something the broker should send. It
// only runs out when something is wrong, so it is generous: a busy 2-core
// machine can stall a goroutine for seconds.
const waitTimeout = 30 * time.Second

var (
	shared   *instance // nil when WARREN_IT_URL points elsewhere
	amqpURL  string    // amqp://guest:guest@host:port/
	amqpAddr string    // host:port, for raw sockets
	external bool      // tests run against WARREN_IT_URL
	runID    string    // makes names unique per test binary run
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	// Keep the broker's expected warnings (refused logins, missed
	// heartbeats) out of the test output; errors still show.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	var b [4]byte
	_, _ = rand.Read(b[:])
	runID = hex.EncodeToString(b[:])

	if u := os.Getenv("WARREN_IT_URL"); u != "" {
		pu, err := url.Parse(u)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad WARREN_IT_URL:", err)
			return 2
		}
		external, amqpURL, amqpAddr = true, u, pu.Host
		return m.Run()
	}

	dir, err := os.MkdirTemp("", "warren-it-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		return 2
	}
	defer os.RemoveAll(dir)
	shared, err = startInstance(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start warren:", err)
		return 2
	}
	amqpURL, amqpAddr = shared.url, shared.addr
	code := m.Run()
	if err := shared.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop warren:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// instance is one in-process Warren: broker plus AMQP listener.
type instance struct {
	dir  string
	addr string
	url  string
	b    *broker.Broker
	srv  *netio.Server
	errc chan error

	once    sync.Once
	stopErr error
}

// startInstance opens a broker on dir and serves it on a port the kernel
// picks (port 0, read back from the listener), so no other process can take
// it between choosing and binding.
func startInstance(dir string) (*instance, error) {
	b, err := broker.Open(broker.Config{DataDir: dir, MaxMessageSize: maxMessageSize})
	if err != nil {
		return nil, fmt.Errorf("broker.Open: %w", err)
	}
	srv := netio.NewServer(netio.Config{Addr: "127.0.0.1:0", Heartbeat: 60}, b)
	in := &instance{dir: dir, b: b, srv: srv, errc: make(chan error, 1)}
	go func() { in.errc <- srv.Run() }()
	select {
	case <-srv.Ready():
	case err := <-in.errc:
		_ = b.Close()
		return nil, fmt.Errorf("server.Run: %w", err)
	case <-time.After(60 * time.Second):
		_ = b.Close()
		return nil, errors.New("server not ready after 60s")
	}
	addr, err := srv.Addr()
	if err != nil {
		_ = in.stop()
		return nil, err
	}
	in.addr = addr.String()
	in.url = "amqp://guest:guest@" + in.addr + "/"
	return in, nil
}

// stop stops the listener (clients get 320) and closes the broker. It may
// be called more than once.
func (in *instance) stop() error {
	in.once.Do(func() {
		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := in.srv.Stop(ctx)
			select {
			case <-in.errc:
			case <-time.After(5 * time.Second):
				if err == nil {
					err = errors.New("server.Run did not return after Stop")
				}
			}
			if cerr := in.b.Close(); err == nil {
				err = cerr
			}
			done <- err
		}()
		select {
		case in.stopErr = <-done:
		case <-time.After(15 * time.Second):
			in.stopErr = errors.New("instance stop hung for 15s")
		}
	})
	return in.stopErr
}

// startTestInstance starts a private instance on dir, stopped at cleanup.
func startTestInstance(t *testing.T, dir string) *instance {
	t.Helper()
	in, err := startInstance(dir)
	if err != nil {
		t.Fatalf("start instance on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := in.stop(); err != nil {
			t.Errorf("stop instance: %v", err)
		}
	})
	return in
}

// needLocal skips a test that needs the in-process broker when the suite
// runs against WARREN_IT_URL.
func needLocal(t *testing.T) {
	t.Helper()
	if external {
		t.Skip("needs the in-process Warren (WARREN_IT_URL is set)")
	}
}

// --- names ----------------------------------------------------------------

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

var (
	testIDs   sync.Map // *testing.T -> int64
	nextTestN atomic.Int64
)

// name returns a queue/exchange name unique to this run and this test
// invocation (-count=N runs a test N times in one binary).
func name(t *testing.T, suffix string) string {
	id, ok := testIDs.Load(t)
	if !ok {
		id, _ = testIDs.LoadOrStore(t, nextTestN.Add(1))
	}
	n := "it." + runID + "." + itoa(int(id.(int64))) + "." + unsafeName.ReplaceAllString(t.Name(), "_")
	if suffix != "" {
		n += "." + suffix
	}
	if len(n) > 200 {
		n = n[:200]
	}
	return n
}

// --- amqp091-go helpers ---------------------------------------------------

// connWatchdog bounds the life of every client connection a test opens:
// amqp091-go's synchronous calls have no timeout, so a reply the broker
// never sends would hang the test. The watchdog closes the socket, which
// makes every pending call return, and fails the test.
const connWatchdog = 30 * time.Second

// dialURL dials with amqp091-go under the watchdog; the connection is
// closed (with a deadline) at cleanup.
func dialURL(t *testing.T, u string, cfg amqp.Config) (*amqp.Connection, error) {
	t.Helper()
	base := cfg.Dial
	if base == nil {
		base = amqp.DefaultDial(waitTimeout)
	}
	cfg.Dial = func(network, addr string) (net.Conn, error) {
		nc, err := base(network, addr)
		if err != nil {
			return nil, err
		}
		var mu sync.Mutex
		done := false
		timer := time.AfterFunc(connWatchdog, func() {
			mu.Lock()
			defer mu.Unlock()
			if !done {
				t.Errorf("watchdog: client connection still busy after %v (a broker reply that never came?); closing its socket", connWatchdog)
				_ = nc.Close()
			}
		})
		t.Cleanup(func() {
			mu.Lock()
			done = true
			mu.Unlock()
			timer.Stop()
		})
		return nc, nil
	}
	c, err := amqp.DialConfig(u, cfg)
	if err == nil {
		t.Cleanup(func() { _ = c.CloseDeadline(time.Now().Add(waitTimeout)) })
	}
	return c, err
}

func dialConfig(t *testing.T, cfg amqp.Config) (*amqp.Connection, error) {
	t.Helper()
	return dialURL(t, amqpURL, cfg)
}

// dial opens a connection closed at cleanup.
func dial(t *testing.T) *amqp.Connection {
	t.Helper()
	c, err := dialConfig(t, amqp.Config{})
	if err != nil {
		t.Fatalf("dial %s: %v", amqpURL, err)
	}
	return c
}

func channel(t *testing.T, c *amqp.Connection) *amqp.Channel {
	t.Helper()
	ch, err := c.Channel()
	if err != nil {
		t.Fatalf("open channel: %v", err)
	}
	return ch
}

// connChan dials and opens one channel.
func connChan(t *testing.T) (*amqp.Connection, *amqp.Channel) {
	t.Helper()
	c := dial(t)
	return c, channel(t, c)
}

// cleanupQueue deletes q at the end of the test over a fresh connection
// (matters only against a shared external broker).
func cleanupQueue(t *testing.T, q string) {
	t.Cleanup(func() {
		if !external {
			return
		}
		c, err := dialConfig(t, amqp.Config{})
		if err != nil {
			return
		}
		defer c.Close()
		if ch, err := c.Channel(); err == nil {
			_, _ = ch.QueueDelete(q, false, false, false)
		}
	})
}

func cleanupExchange(t *testing.T, x string) {
	t.Cleanup(func() {
		if !external {
			return
		}
		c, err := dialConfig(t, amqp.Config{})
		if err != nil {
			return
		}
		defer c.Close()
		if ch, err := c.Channel(); err == nil {
			_ = ch.ExchangeDelete(x, false, false)
		}
	})
}

// declareQueue declares a plain (non-durable, non-exclusive) named queue.
func declareQueue(t *testing.T, ch *amqp.Channel, suffix string) string {
	t.Helper()
	q := name(t, suffix)
	if _, err := ch.QueueDeclare(q, false, false, false, false, nil); err != nil {
		t.Fatalf("queue.declare %s: %v", q, err)
	}
	cleanupQueue(t, q)
	return q
}

func declareExchange(t *testing.T, ch *amqp.Channel, suffix, kind string) string {
	t.Helper()
	x := name(t, suffix)
	if err := ch.ExchangeDeclare(x, kind, false, false, false, false, nil); err != nil {
		t.Fatalf("exchange.declare %s (%s): %v", x, kind, err)
	}
	cleanupExchange(t, x)
	return x
}

func bindQueue(t *testing.T, ch *amqp.Channel, q, key, x string, args amqp.Table) {
	t.Helper()
	if err := ch.QueueBind(q, key, x, false, args); err != nil {
		t.Fatalf("queue.bind %s -> %s (%q): %v", x, q, key, err)
	}
}

func publish(t *testing.T, ch *amqp.Channel, x, key string, msg amqp.Publishing) {
	t.Helper()
	publishOpts(t, ch, x, key, false, false, msg)
}

func publishOpts(t *testing.T, ch *amqp.Channel, x, key string, mandatory, immediate bool, msg amqp.Publishing) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := ch.PublishWithContext(ctx, x, key, mandatory, immediate, msg); err != nil {
		t.Fatalf("publish to %q/%q: %v", x, key, err)
	}
}

func publishText(t *testing.T, ch *amqp.Channel, x, key, body string) {
	t.Helper()
	publish(t, ch, x, key, amqp.Publishing{Body: []byte(body)})
}

// roundTrip makes sure every method sent before on ch has been handled: a
// synchronous round trip on the same channel. It returns q's counts.
func roundTrip(t *testing.T, ch *amqp.Channel, q string) amqp.Queue {
	t.Helper()
	st, err := ch.QueueDeclarePassive(q, false, false, false, false, nil)
	if err != nil {
		t.Fatalf("queue.declare passive %s: %v", q, err)
	}
	return st
}

// queueState is the queue's declare-ok counts, read on a new channel.
func queueState(t *testing.T, c *amqp.Connection, q string) amqp.Queue {
	t.Helper()
	ch := channel(t, c)
	defer ch.Close()
	return roundTrip(t, ch, q)
}

// waitMessages polls until q holds n ready messages.
func waitMessages(t *testing.T, c *amqp.Connection, q string, n int) {
	t.Helper()
	var got int
	eventually(t, func() bool { got = queueState(t, c, q).Messages; return got == n },
		"queue %s to hold %d messages (has %d)", q, n, &got)
}

// eventually polls cond until it holds or waitTimeout passes.
func eventually(t *testing.T, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			for i, a := range args {
				if p, ok := a.(*int); ok {
					args[i] = *p
				}
			}
			t.Fatalf("timed out waiting for "+format, args...)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, ch *amqp.Channel, q string, autoAck bool) (amqp.Delivery, bool) {
	t.Helper()
	d, ok, err := ch.Get(q, autoAck)
	if err != nil {
		t.Fatalf("basic.get %s: %v", q, err)
	}
	return d, ok
}

// mustGet gets one message and checks its body.
func mustGet(t *testing.T, ch *amqp.Channel, q string, autoAck bool, body string) amqp.Delivery {
	t.Helper()
	d, ok := get(t, ch, q, autoAck)
	if !ok {
		t.Fatalf("basic.get %s: queue empty, want %q", q, body)
	}
	if string(d.Body) != body {
		t.Fatalf("basic.get %s: body %q, want %q", q, d.Body, body)
	}
	return d
}

func mustGetEmpty(t *testing.T, ch *amqp.Channel, q string) {
	t.Helper()
	if d, ok := get(t, ch, q, true); ok {
		t.Fatalf("basic.get %s: got %q, want get-empty", q, d.Body)
	}
}

// drain returns the bodies of every message in q (auto-ack).
func drain(t *testing.T, ch *amqp.Channel, q string) []string {
	t.Helper()
	var out []string
	for i := 0; i < 10000; i++ {
		d, ok := get(t, ch, q, true)
		if !ok {
			return out
		}
		out = append(out, string(d.Body))
	}
	t.Fatalf("queue %s does not drain", q)
	return nil
}

func consume(t *testing.T, ch *amqp.Channel, q, tag string, autoAck bool) <-chan amqp.Delivery {
	t.Helper()
	d, err := ch.Consume(q, tag, autoAck, false, false, false, nil)
	if err != nil {
		t.Fatalf("basic.consume %s: %v", q, err)
	}
	return d
}

func recv(t *testing.T, ds <-chan amqp.Delivery) amqp.Delivery {
	t.Helper()
	select {
	case d, ok := <-ds:
		if !ok {
			t.Fatal("deliveries channel closed, want a delivery")
		}
		return d
	case <-time.After(waitTimeout):
		t.Fatal("no delivery within timeout")
	}
	return amqp.Delivery{}
}

// noDelivery checks nothing arrives on ds for d.
func noDelivery(t *testing.T, ds <-chan amqp.Delivery, d time.Duration) {
	t.Helper()
	select {
	case m, ok := <-ds:
		if ok {
			t.Fatalf("unexpected delivery %q (tag %d)", m.Body, m.DeliveryTag)
		}
	case <-time.After(d):
	}
}

// amqpCode returns the reply code of an *amqp.Error, or 0.
func amqpCode(err error) uint16 {
	var e *amqp.Error
	if errors.As(err, &e) {
		return uint16(e.Code)
	}
	return 0
}

func wantCode(t *testing.T, err error, code uint16, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: succeeded, want reply code %d", what, code)
	}
	if got := amqpCode(err); got != code {
		t.Fatalf("%s: error %v (code %d), want reply code %d", what, err, got, code)
	}
}

// waitClosed waits for the close notification of a channel or connection
// and checks its reply code.
func waitClosed(t *testing.T, closes <-chan *amqp.Error, code uint16, what string) *amqp.Error {
	t.Helper()
	select {
	case e, ok := <-closes:
		if !ok || e == nil {
			t.Fatalf("%s closed without an error, want reply code %d", what, code)
		}
		if uint16(e.Code) != code {
			t.Fatalf("%s closed with %d %q, want reply code %d", what, e.Code, e.Reason, code)
		}
		return e
	case <-time.After(waitTimeout):
		t.Fatalf("%s not closed within %v, want reply code %d", what, waitTimeout, code)
	}
	return nil
}

// channelFails runs op on a fresh channel of c, which must close that channel
// with code while c stays open; it then checks c still works.
func channelFails(t *testing.T, c *amqp.Connection, code uint16, what string, op func(ch *amqp.Channel) error) {
	t.Helper()
	ch := channel(t, c)
	closes := ch.NotifyClose(make(chan *amqp.Error, 1))
	err := op(ch)
	// A synchronous method returns the channel.close reply as its error;
	// after an asynchronous one (publish, ack) the next call may find the
	// channel already closed, so the close notification is what counts.
	if err == nil || amqpCode(err) != code {
		waitClosed(t, closes, code, what+" (channel)")
	}
	if c.IsClosed() {
		t.Fatalf("%s: connection closed, want only the channel closed", what)
	}
	connUsable(t, c)
}

// connUsable opens a channel on c and does a round trip on it.
func connUsable(t *testing.T, c *amqp.Connection) {
	t.Helper()
	ch, err := c.Channel()
	if err != nil {
		t.Fatalf("connection not usable: channel.open: %v", err)
	}
	defer ch.Close()
	if _, err := ch.QueueDeclare("", false, true, true, false, nil); err != nil {
		t.Fatalf("connection not usable: queue.declare: %v", err)
	}
}

// connectionFails runs op on a new connection, which must be closed with code.
func connectionFails(t *testing.T, code uint16, what string, op func(ch *amqp.Channel) error) {
	t.Helper()
	c, ch := connChan(t)
	closes := c.NotifyClose(make(chan *amqp.Error, 1))
	err := op(ch)
	if err != nil {
		wantCode(t, err, code, what)
	}
	waitClosed(t, closes, code, what+" (connection)")
}

// --- raw AMQP over a socket ----------------------------------------------

// rawConn speaks hand-built frames, for what a client library cannot send.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

type rawFrame struct {
	typ     byte
	ch      uint16
	payload []byte
}

func (f rawFrame) isMethod(class, method uint16) bool {
	return f.typ == 1 && len(f.payload) >= 4 &&
		binary.BigEndian.Uint16(f.payload) == class && binary.BigEndian.Uint16(f.payload[2:]) == method
}

func (f rawFrame) String() string {
	if f.typ == 1 && len(f.payload) >= 4 {
		return fmt.Sprintf("method %d.%d on channel %d", binary.BigEndian.Uint16(f.payload), binary.BigEndian.Uint16(f.payload[2:]), f.ch)
	}
	return fmt.Sprintf("frame type %d on channel %d (%d bytes)", f.typ, f.ch, len(f.payload))
}

func dialRaw(t *testing.T) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", amqpAddr, waitTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", amqpAddr, err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(3 * waitTimeout))
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (r *rawConn) write(b []byte) {
	r.t.Helper()
	if _, err := r.nc.Write(b); err != nil {
		r.t.Fatalf("raw write: %v", err)
	}
}

// send writes one well-formed frame.
func (r *rawConn) send(typ byte, ch uint16, payload []byte) {
	r.t.Helper()
	r.write(rawFrameBytes(typ, ch, payload))
}

// sendMethod writes a method frame built from class, method and args.
func (r *rawConn) sendMethod(ch, class, method uint16, args ...[]byte) {
	r.t.Helper()
	r.send(1, ch, methodPayload(class, method, args...))
}

func (r *rawConn) readFrame() (rawFrame, error) {
	var hdr [7]byte
	if _, err := io.ReadFull(r.br, hdr[:]); err != nil {
		return rawFrame{}, err
	}
	size := binary.BigEndian.Uint32(hdr[3:])
	if size > 64<<20 {
		return rawFrame{}, fmt.Errorf("frame of %d bytes", size)
	}
	buf := make([]byte, size+1)
	if _, err := io.ReadFull(r.br, buf); err != nil {
		return rawFrame{}, err
	}
	if buf[size] != 0xCE {
		return rawFrame{}, fmt.Errorf("bad frame-end 0x%02x", buf[size])
	}
	return rawFrame{typ: hdr[0], ch: binary.BigEndian.Uint16(hdr[1:]), payload: buf[:size]}, nil
}

// next reads the next frame that is not a heartbeat.
func (r *rawConn) next() rawFrame {
	r.t.Helper()
	for {
		f, err := r.readFrame()
		if err != nil {
			r.t.Fatalf("raw read: %v", err)
		}
		if f.typ != 8 {
			return f
		}
	}
}

// expect reads the next non-heartbeat frame, which must be the method.
func (r *rawConn) expect(ch, class, method uint16) []byte {
	r.t.Helper()
	f := r.next()
	if f.ch != ch || !f.isMethod(class, method) {
		if f.isMethod(10, 50) || f.isMethod(20, 40) {
			code, text, _, _ := parseClose(f.payload[4:])
			r.t.Fatalf("want method %d.%d on channel %d, got %s: %d %s", class, method, ch, f, code, text)
		}
		r.t.Fatalf("want method %d.%d on channel %d, got %s", class, method, ch, f)
	}
	return f.payload[4:]
}

type handshakeOpts struct {
	heartbeat uint16
	frameMax  uint32 // 0: take the server's
	chanMax   uint16 // 0: take the server's
	vhost     string
	mechanism string
	response  string
}

// handshake runs the protocol header, start-ok, tune-ok and open. It
// returns the server's tune (channel_max, frame_max, heartbeat).
func (r *rawConn) handshake(o handshakeOpts) (uint16, uint32, uint16) {
	r.t.Helper()
	r.write([]byte("AMQP\x00\x00\x09\x01"))
	r.expect(0, 10, 10) // start
	r.startOk(o)
	tune := r.expect(0, 10, 30)
	if len(tune) < 8 {
		r.t.Fatalf("short connection.tune: %x", tune)
	}
	chMax, fMax, hb := binary.BigEndian.Uint16(tune), binary.BigEndian.Uint32(tune[2:]), binary.BigEndian.Uint16(tune[6:])
	fm := o.frameMax
	if fm == 0 {
		fm = fMax
	}
	cm := o.chanMax
	if cm == 0 {
		cm = chMax
	}
	r.sendMethod(0, 10, 31, u16(cm), u32(fm), u16(o.heartbeat))
	vh := o.vhost
	if vh == "" {
		vh = "/"
	}
	r.sendMethod(0, 10, 40, shortstr(vh), shortstr(""), []byte{0})
	r.expect(0, 10, 41)
	return chMax, fMax, hb
}

func (r *rawConn) startOk(o handshakeOpts) {
	r.t.Helper()
	mech, resp := o.mechanism, o.response
	if mech == "" {
		mech, resp = "PLAIN", "\x00guest\x00guest"
	}
	props := table(
		"product", stringField("warren-it-raw"),
		"capabilities", fieldTable(table(
			"authentication_failure_close", boolField(true),
			"consumer_cancel_notify", boolField(true),
		)),
	)
	r.sendMethod(0, 10, 11, props, shortstr(mech), longstr(resp), shortstr("en_US"))
}

// open does the handshake and opens channel 1.
func (r *rawConn) open() {
	r.t.Helper()
	r.handshake(handshakeOpts{})
	r.openChannel(1)
}

func (r *rawConn) openChannel(ch uint16) {
	r.t.Helper()
	r.sendMethod(ch, 20, 10, shortstr(""))
	r.expect(ch, 20, 11)
}

// expectConnectionClose reads until connection.close, checks its reply
// code, answers close-ok and checks the server then closes the socket. It
// returns the reply text, class and method ids.
func (r *rawConn) expectConnectionClose(code uint16) (string, uint16, uint16) {
	r.t.Helper()
	for {
		f, err := r.readFrame()
		if err != nil {
			r.t.Fatalf("want connection.close %d, read failed: %v", code, err)
		}
		if f.typ == 8 {
			continue
		}
		if f.ch == 0 && f.isMethod(10, 50) {
			got, text, class, method := parseClose(f.payload[4:])
			if got != code {
				r.t.Fatalf("connection.close %d %q (method %d.%d), want code %d", got, text, class, method, code)
			}
			r.sendMethod(0, 10, 51)
			r.expectEOF()
			return text, class, method
		}
		if f.isMethod(20, 40) {
			got, text, _, _ := parseClose(f.payload[4:])
			r.t.Fatalf("got channel.close %d %q on channel %d, want connection.close %d", got, text, f.ch, code)
		}
		// Anything else (e.g. a reply sent before the error) is skipped.
	}
}

// expectChannelClose reads until channel.close on ch, checks the code and
// answers close-ok.
func (r *rawConn) expectChannelClose(ch, code uint16) (string, uint16, uint16) {
	r.t.Helper()
	for {
		f := r.next()
		if f.ch == 0 && f.isMethod(10, 50) {
			got, text, _, _ := parseClose(f.payload[4:])
			r.t.Fatalf("got connection.close %d %q, want channel.close %d on channel %d", got, text, code, ch)
		}
		if f.ch == ch && f.isMethod(20, 40) {
			got, text, class, method := parseClose(f.payload[4:])
			if got != code {
				r.t.Fatalf("channel.close %d %q (method %d.%d), want code %d", got, text, class, method, code)
			}
			r.sendMethod(ch, 20, 41)
			return text, class, method
		}
	}
}

// expectEOF checks the server closes the socket (heartbeats may come first).
func (r *rawConn) expectEOF() {
	r.t.Helper()
	_ = r.nc.SetReadDeadline(time.Now().Add(waitTimeout))
	for {
		f, err := r.readFrame()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				r.t.Fatalf("server did not close the socket within %v", waitTimeout)
			}
			return
		}
		if f.typ != 8 {
			r.t.Fatalf("want the socket closed, got %s", f)
		}
	}
}

func parseClose(args []byte) (code uint16, text string, class, method uint16) {
	if len(args) < 3 {
		return 0, "", 0, 0
	}
	code = binary.BigEndian.Uint16(args)
	n := int(args[2])
	if len(args) < 3+n+4 {
		return code, "", 0, 0
	}
	text = string(args[3 : 3+n])
	rest := args[3+n:]
	return code, text, binary.BigEndian.Uint16(rest), binary.BigEndian.Uint16(rest[2:])
}

// parseShortstr reads a shortstr at the start of b.
func parseShortstr(b []byte) (string, []byte) {
	if len(b) == 0 || len(b) < 1+int(b[0]) {
		return "", nil
	}
	return string(b[1 : 1+int(b[0])]), b[1+int(b[0]):]
}

func rawFrameBytes(typ byte, ch uint16, payload []byte) []byte {
	b := make([]byte, 0, 8+len(payload))
	b = append(b, typ, byte(ch>>8), byte(ch))
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	return append(b, 0xCE)
}

func methodPayload(class, method uint16, args ...[]byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, class)
	b = binary.BigEndian.AppendUint16(b, method)
	for _, a := range args {
		b = append(b, a...)
	}
	return b
}

// contentHeader builds a basic content header payload with no properties.
func contentHeader(bodySize uint64) []byte {
	b := binary.BigEndian.AppendUint16(nil, 60)
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint64(b, bodySize)
	return binary.BigEndian.AppendUint16(b, 0) // property flags: none
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func shortstr(s string) []byte {
	if len(s) > 255 {
		panic("shortstr too long")
	}
	return append([]byte{byte(len(s))}, s...)
}

func longstr(s string) []byte { return append(u32(uint32(len(s))), s...) }

// table encodes a field table from name, encoded-value pairs (the value
// includes its type octet: stringField, boolField, fieldTable).
func table(kv ...any) []byte {
	var body []byte
	for i := 0; i+1 < len(kv); i += 2 {
		body = append(body, shortstr(kv[i].(string))...)
		body = append(body, kv[i+1].([]byte)...)
	}
	return append(u32(uint32(len(body))), body...)
}

func stringField(s string) []byte { return append([]byte{'S'}, longstr(s)...) }

func boolField(v bool) []byte {
	if v {
		return []byte{'t', 1}
	}
	return []byte{'t', 0}
}

func fieldTable(t []byte) []byte { return append([]byte{'F'}, t...) }

// emptyTable is a zero-length field table.
var emptyTable = u32(0)

// bits packs booleans into one octet, first argument in bit 0.
func bits(v ...bool) []byte {
	var o byte
	for i, b := range v {
		if b {
			o |= 1 << i
		}
	}
	return []byte{o}
}

// rawQueueDeclare declares q on ch (non-durable, auto-delete false) and
// waits for declare-ok.
func (r *rawConn) queueDeclare(ch uint16, q string, exclusive bool) {
	r.t.Helper()
	r.sendMethod(ch, 50, 10, u16(0), shortstr(q), bits(false, false, exclusive, false, false), emptyTable)
	r.expect(ch, 50, 11)
}

// rawPublish sends basic.publish + header + one body frame.
func (r *rawConn) publish(ch uint16, x, key string, body []byte) {
	r.t.Helper()
	r.sendMethod(ch, 60, 40, u16(0), shortstr(x), shortstr(key), bits(false, false))
	r.send(2, ch, contentHeader(uint64(len(body))))
	if len(body) > 0 {
		r.send(3, ch, body)
	}
}

// hasPrefix is strings.HasPrefix, for readability in assertions.
func hasPrefix(s, p string) bool { return strings.HasPrefix(s, p) }

// timeAfter is the standard wait for something the broker should send.
func timeAfter() <-chan time.Time { return time.After(waitTimeout) }
