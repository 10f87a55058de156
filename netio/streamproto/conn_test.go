package streamproto

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/warrenmq/warren/broker"
)

func testServer(t testing.TB) (*Server, string) {
	t.Helper()
	users := broker.DefaultUsers()
	if err := users.Add(broker.User{Name: "ro", Password: "ro"}); err != nil {
		t.Fatal(err)
	}
	if err := users.SetPermissions(broker.Permission{User: "ro", VHost: "/", Read: ".*"}); err != nil {
		t.Fatal(err)
	}
	b, err := broker.Open(broker.Config{DataDir: t.TempDir(), Users: users})
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(Config{Heartbeat: -1}, b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { _ = s.Close(); _ = b.Close() })
	return s, ln.Addr().String()
}

// rawClient speaks the protocol frame by frame.
type rawClient struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawClient{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *rawClient) send(key uint16, fields func(b []byte) []byte) {
	c.t.Helper()
	b, at := begin(nil, key, 1)
	b = end(fields(b), at)
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// next reads one frame: key and the rest.
func (c *rawClient) next() (uint16, *reader, error) {
	var h [4]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return 0, nil, err
	}
	f := make([]byte, binary.BigEndian.Uint32(h[:]))
	if _, err := io.ReadFull(c.br, f); err != nil {
		return 0, nil, err
	}
	r := &reader{b: f}
	key := r.u16()
	r.u16()
	return key, r, nil
}

// call sends a request and returns the code of its response.
func (c *rawClient) call(key uint16, fields func(b []byte) []byte) uint16 {
	c.t.Helper()
	c.send(key, fields)
	code, _ := c.expect(key | ResponseFlag)
	return code
}

// expect reads frames until one of key, and returns its response code
// (after the correlation id).
func (c *rawClient) expect(key uint16) (uint16, *reader) {
	c.t.Helper()
	for {
		k, r, err := c.next()
		if err != nil {
			c.t.Fatalf("waiting for key %#x: %v", key, err)
		}
		if k == key {
			r.u32()
			return r.u16(), r
		}
	}
}

func (c *rawClient) handshake(user, pass, vhost string) uint16 {
	if code := c.call(KeyPeerProperties, func(b []byte) []byte { return appendU32(appendU32(b, 1), 0) }); code != CodeOK {
		return code
	}
	c.send(KeySaslHandshake, func(b []byte) []byte { return appendU32(b, 2) })
	c.expect(KeySaslHandshake | ResponseFlag)
	if code := c.call(KeySaslAuthenticate, func(b []byte) []byte {
		b = appendStr(appendU32(b, 3), "PLAIN")
		resp := "\x00" + user + "\x00" + pass
		return append(appendU32(b, uint32(len(resp))), resp...)
	}); code != CodeOK {
		return code
	}
	k, r, err := c.next()
	if err != nil || k != KeyTune {
		c.t.Fatalf("tune: %#x %v", k, err)
	}
	fm, hb := r.u32(), r.u32()
	c.send(KeyTune|ResponseFlag, func(b []byte) []byte { return appendU32(appendU32(b, fm), hb) })
	c.send(KeyOpen, func(b []byte) []byte { return appendStr(appendU32(b, 4), vhost) })
	code, _ := c.expect(KeyOpen | ResponseFlag)
	return code
}

func TestHandshakeRefusals(t *testing.T) {
	_, addr := testServer(t)
	if code := dialRaw(t, addr).handshake("guest", "wrong", "/"); code != CodeAuthenticationFailure {
		t.Fatalf("bad password: code %d", code)
	}
	if code := dialRaw(t, addr).handshake("guest", "guest", "nope"); code != CodeVirtualHostAccessFailure {
		t.Fatalf("bad vhost: code %d", code)
	}
	c := dialRaw(t, addr)
	if code := c.handshake("guest", "guest", "/"); code != CodeOK {
		t.Fatalf("handshake: code %d", code)
	}
	if code := c.call(KeyDeclarePublisher, func(b []byte) []byte {
		return appendStr(appendStr(append(appendU32(b, 5), 1), ""), "missing")
	}); code != CodeStreamDoesNotExist {
		t.Fatalf("publisher on a missing stream: %d", code)
	}
	if code := c.call(KeySubscribe, func(b []byte) []byte {
		return appendU16(appendU16(appendStr(append(appendU32(b, 6), 1), "missing"), OffsetFirst), 10)
	}); code != CodeStreamDoesNotExist {
		t.Fatalf("subscribe to a missing stream: %d", code)
	}
	c.send(KeyCredit, func(b []byte) []byte { return appendU16(append(b, 9), 1) })
	k, r, err := c.next()
	if err != nil || k != KeyCredit|ResponseFlag || r.u16() != CodeSubscriptionIDDoesNotExist {
		t.Fatalf("credit for no subscription: %#x %v", k, err)
	}
	if code := c.call(KeyCreate, func(b []byte) []byte {
		b = appendStr(appendU32(b, 7), "s1")
		return appendStr(appendStr(appendU32(b, 1), "max-age"), "forever")
	}); code != CodePreconditionFailed {
		t.Fatalf("bad argument: %d", code)
	}
	// A publish for an undeclared publisher gets publish errors.
	c.send(KeyPublish, func(b []byte) []byte {
		b = appendU32(append(b, 7), 1)
		return append(appendU32(appendU64(b, 42), 2), 'h', 'i')
	})
	k, r, err = c.next()
	if err != nil || k != KeyPublishError || r.u8() != 7 || r.u32() != 1 || r.u64() != 42 || r.u16() != CodePublisherDoesNotExist {
		t.Fatalf("publish error: %#x %v", k, err)
	}
	c.send(999, func(b []byte) []byte { return b })
	if code, _ := c.expect(KeyClose); code != CodeUnknownFrame {
		t.Fatalf("unknown frame: close code %d", code)
	}
}

// FuzzFrame: whatever frame an authenticated client sends, the server
// answers or closes the connection, never panics, and keeps serving
// others.
func FuzzFrame(f *testing.F) {
	seed := func(key uint16, fields func(b []byte) []byte) {
		b, at := begin(nil, key, 1)
		b = end(fields(b), at)
		f.Add(b[4:])
	}
	seed(KeyCreate, func(b []byte) []byte { return appendU32(appendStr(appendU32(b, 1), "fz"), 0) })
	seed(KeyDeclarePublisher, func(b []byte) []byte { return appendStr(appendStr(append(appendU32(b, 2), 0), "p"), "fz") })
	seed(KeyPublish, func(b []byte) []byte {
		b = appendU32(append(b, 0), 2)
		b = append(appendU32(appendU64(b, 1), 1), 'x')
		return append(b, 0x80|0x10, 0, 1, 0, 0, 0, 5, 0, 0, 0, 1, 0xff)
	})
	seed(KeyPublish, func(b []byte) []byte { return appendU32(append(b, 0), 0x7fffffff) })
	seed(KeySubscribe, func(b []byte) []byte {
		b = appendU16(appendU64(appendU16(appendStr(append(appendU32(b, 3), 0), "fz"), OffsetOffset), 5), 1)
		return appendStr(appendStr(appendU32(b, 1), "single-active-consumer"), "true")
	})
	seed(KeyMetadata, func(b []byte) []byte { return appendU32(appendU32(b, 4), 0xffffffff) })
	seed(KeyCreateSuperStream, func(b []byte) []byte {
		b = appendStr(appendU32(b, 5), "sup")
		b = appendStr(appendU32(b, 1), "sup-0")
		return appendU32(appendStr(appendU32(b, 1), "0"), 0)
	})
	seed(KeyConsumerUpdate|ResponseFlag, func(b []byte) []byte { return appendU16(appendU16(appendU32(b, 1), 1), 9) })
	seed(KeyStoreOffset, func(b []byte) []byte { return appendU64(appendStr(appendStr(b, "r"), "fz"), 3) })
	seed(KeyRoute, func(b []byte) []byte { return appendStr(appendStr(appendU32(b, 6), "k"), "sup") })
	_, addr := testServer(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		c := dialRaw(t, addr)
		if code := c.handshake("guest", "guest", "/"); code != CodeOK {
			t.Fatalf("handshake: %d", code)
		}
		b := appendU32(nil, uint32(len(frame)))
		if _, err := c.nc.Write(append(b, frame...)); err != nil {
			return
		}
		// The connection still answers, or it was closed on purpose.
		c.send(KeyMetadata, func(b []byte) []byte { return appendU32(appendU32(b, 99), 0) })
		_ = c.nc.SetDeadline(time.Now().Add(5 * time.Second))
		for {
			k, _, err := c.next()
			if err != nil || k == KeyMetadata|ResponseFlag || k == KeyClose {
				break
			}
		}
		c2 := dialRaw(t, addr)
		if code := c2.handshake("guest", "guest", "/"); code != CodeOK {
			t.Fatalf("server stopped serving: %d", code)
		}
		c2.nc.Close()
	})
}

// A user with read but no write or configure permission may subscribe but
// not create a stream or declare a publisher (RabbitMQ's code 16).
func TestPermissions(t *testing.T) {
	_, addr := testServer(t)
	admin := dialRaw(t, addr)
	if code := admin.handshake("guest", "guest", "/"); code != CodeOK {
		t.Fatal(code)
	}
	if code := admin.call(KeyCreate, func(b []byte) []byte { return appendU32(appendStr(appendU32(b, 1), "perm"), 0) }); code != CodeOK {
		t.Fatalf("create: %d", code)
	}
	ro := dialRaw(t, addr)
	if code := ro.handshake("ro", "ro", "/"); code != CodeOK {
		t.Fatalf("ro handshake: %d", code)
	}
	if code := ro.call(KeyCreate, func(b []byte) []byte { return appendU32(appendStr(appendU32(b, 2), "perm2"), 0) }); code != CodeAccessRefused {
		t.Fatalf("create without configure: %d", code)
	}
	if code := ro.call(KeyDeclarePublisher, func(b []byte) []byte { return appendStr(appendStr(append(appendU32(b, 3), 0), ""), "perm") }); code != CodeAccessRefused {
		t.Fatalf("publisher without write: %d", code)
	}
	if code := ro.call(KeySubscribe, func(b []byte) []byte {
		return appendU16(appendU16(appendStr(append(appendU32(b, 4), 1), "perm"), OffsetFirst), 10)
	}); code != CodeOK {
		t.Fatalf("subscribe with read: %d", code)
	}
}

// Deleting a stream tells its subscribers and, at their next publish, its
// publishers: metadata update with code 6 (stream not available).
func TestStreamDeletedNotifies(t *testing.T) {
	_, addr := testServer(t)
	c := dialRaw(t, addr)
	if code := c.handshake("guest", "guest", "/"); code != CodeOK {
		t.Fatal(code)
	}
	if code := c.call(KeyCreate, func(b []byte) []byte { return appendU32(appendStr(appendU32(b, 1), "gone"), 0) }); code != CodeOK {
		t.Fatalf("create: %d", code)
	}
	if code := c.call(KeyDeclarePublisher, func(b []byte) []byte { return appendStr(appendStr(append(appendU32(b, 2), 0), ""), "gone") }); code != CodeOK {
		t.Fatalf("publisher: %d", code)
	}
	if code := c.call(KeySubscribe, func(b []byte) []byte {
		return appendU16(appendU16(appendStr(append(appendU32(b, 3), 5), "gone"), OffsetNext), 10)
	}); code != CodeOK {
		t.Fatalf("subscribe: %d", code)
	}
	other := dialRaw(t, addr)
	if code := other.handshake("guest", "guest", "/"); code != CodeOK {
		t.Fatal(code)
	}
	if code := other.call(KeyDelete, func(b []byte) []byte { return appendStr(appendU32(b, 4), "gone") }); code != CodeOK {
		t.Fatalf("delete: %d", code)
	}
	k, r, err := c.next()
	if err != nil || k != KeyMetadataUpdate || r.u16() != CodeStreamNotAvailable || r.str() != "gone" {
		t.Fatalf("subscriber: %#x %v", k, err)
	}
	c.send(KeyPublish, func(b []byte) []byte {
		return append(appendU32(appendU64(appendU32(append(b, 0), 1), 1), 1), 'x')
	})
	var sawError, sawUpdate bool
	for !(sawError && sawUpdate) {
		k, r, err := c.next()
		if err != nil {
			t.Fatalf("publisher: %v (error %v, update %v)", err, sawError, sawUpdate)
		}
		switch k {
		case KeyPublishError:
			r.u8()
			r.u32()
			r.u64()
			if code := r.u16(); code != CodeStreamNotAvailable {
				t.Fatalf("publish error code %d", code)
			}
			sawError = true
		case KeyMetadataUpdate:
			sawUpdate = true
		}
	}
}
