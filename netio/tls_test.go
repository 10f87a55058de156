package netio_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
	"github.com/warrenmq/warren/netio"
	"github.com/warrenmq/warren/netio/testpki"
)

// tlsInstance is an in-process Warren with an AMQPS listener.
type tlsInstance struct {
	*instance
	tlsAddr string
	certs   *netio.TLSCerts
}

// startTLSInstance serves opts on a second, TLS, port of a private
// instance whose users are guest and "tlsuser".
func startTLSInstance(t *testing.T, opts netio.TLSOptions, login *netio.CertLogin) *tlsInstance {
	t.Helper()
	return startTLSInstanceWith(t, opts, netio.Config{CertLogin: login})
}

// startTLSInstanceWith is startTLSInstance with more of netio.Config (its
// Addr and Heartbeat are set here).
func startTLSInstanceWith(t *testing.T, opts netio.TLSOptions, cfg netio.Config) *tlsInstance {
	t.Helper()
	needLocal(t)
	users := broker.DefaultUsers()
	if err := users.Add(broker.User{Name: "tlsuser", Password: "not-used-by-external"}); err != nil {
		t.Fatal(err)
	}
	if err := users.SetPermissions(broker.Permission{User: "tlsuser", VHost: "/", Configure: ".*", Write: ".*", Read: ".*"}); err != nil {
		t.Fatal(err)
	}
	b, err := broker.Open(broker.Config{DataDir: t.TempDir(), Users: users})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr, cfg.Heartbeat = "127.0.0.1:0", 60
	srv := netio.NewServer(cfg, b)
	in := &instance{b: b, srv: srv, errc: make(chan error, 1)}
	go func() { in.errc <- srv.Run() }()
	select {
	case <-srv.Ready():
	case err := <-in.errc:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := in.stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	certs, err := netio.LoadTLS(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := netio.ListenTLS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.ServeTLS(ln, certs) }()
	addr, err := srv.Addr()
	if err != nil {
		t.Fatal(err)
	}
	in.addr = addr.String()
	return &tlsInstance{instance: in, tlsAddr: ln.Addr().String(), certs: certs}
}

type testPKI struct {
	dir    string
	ca     *testpki.CA
	server testpki.Pair
}

func newTestPKI(t *testing.T) *testPKI {
	dir := t.TempDir()
	ca := testpki.NewCA(t, dir, "warren-test")
	return &testPKI{dir: dir, ca: ca, server: ca.Server(t, "server")}
}

func (p *testPKI) options(verify bool, failIfNoCert bool) netio.TLSOptions {
	o := netio.TLSOptions{CertFile: p.server.CertFile, KeyFile: p.server.KeyFile, CACertFile: p.ca.CertFile}
	if verify {
		o.Verify = "verify_peer"
	}
	o.FailIfNoPeerCert = failIfNoCert
	return o
}

// clientConfig trusts the test CA and presents client, if any.
func (p *testPKI) clientConfig(t *testing.T, client *testpki.Pair) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(p.ca.Cert)
	cfg := &tls.Config{RootCAs: pool, ServerName: "localhost"}
	if client != nil {
		pair, err := tls.LoadX509KeyPair(client.CertFile, client.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg
}

// tlsRoundTrip publishes one message through a fresh queue and gets it back.
func tlsRoundTrip(t *testing.T, c *amqp.Connection) {
	t.Helper()
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Publish("", q.Name, false, false, amqp.Publishing{Body: []byte("over tls")}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		m, ok, err := ch.Get(q.Name, true)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			if string(m.Body) != "over tls" {
				t.Fatalf("body %q", m.Body)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("message not back")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTLSServerCertVerified(t *testing.T) {
	p := newTestPKI(t)
	in := startTLSInstance(t, p.options(false, false), &netio.CertLogin{})
	c, err := amqp.DialTLS("amqps://guest:guest@"+in.tlsAddr+"/", p.clientConfig(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st := c.ConnectionState()
	if !st.HandshakeComplete || st.PeerCertificates[0].SerialNumber.Cmp(p.server.Cert.SerialNumber) != 0 {
		t.Fatalf("not the server's certificate: %+v", st.PeerCertificates[0].Subject)
	}
	tlsRoundTrip(t, c)

	// A client that does not trust the issuer refuses the server.
	other := testpki.NewCA(t, t.TempDir(), "other")
	pool := x509.NewCertPool()
	pool.AddCert(other.Cert)
	if _, err := amqp.DialTLS("amqps://guest:guest@"+in.tlsAddr+"/", &tls.Config{RootCAs: pool, ServerName: "localhost"}); err == nil {
		t.Fatal("dial trusting another CA succeeded")
	}
	// Without a client certificate, EXTERNAL is not offered.
	if mechs := startMechanisms(t, in.tlsAddr, p.clientConfig(t, nil)); mechs != "PLAIN AMQPLAIN" {
		t.Fatalf("mechanisms %q", mechs)
	}
}

func TestTLSClientCertRequired(t *testing.T) {
	p := newTestPKI(t)
	in := startTLSInstance(t, p.options(true, true), &netio.CertLogin{})
	url := "amqps://guest:guest@" + in.tlsAddr + "/"
	if c, err := amqp.DialTLS(url, p.clientConfig(t, nil)); err == nil {
		c.Close()
		t.Fatal("dial without a client certificate succeeded")
	}
	stranger := testpki.NewCA(t, t.TempDir(), "stranger").Client(t, "tlsuser")
	if c, err := amqp.DialTLS(url, p.clientConfig(t, &stranger)); err == nil {
		c.Close()
		t.Fatal("dial with an untrusted client certificate succeeded")
	}
	good := p.ca.Client(t, "tlsuser")
	c, err := amqp.DialTLS(url, p.clientConfig(t, &good))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tlsRoundTrip(t, c)
	if mechs := startMechanisms(t, in.tlsAddr, p.clientConfig(t, &good)); mechs != "PLAIN AMQPLAIN EXTERNAL" {
		t.Fatalf("mechanisms %q", mechs)
	}
	// The plain listener never offers EXTERNAL.
	if mechs := startMechanisms(t, in.addr, nil); mechs != "PLAIN AMQPLAIN" {
		t.Fatalf("plain listener mechanisms %q", mechs)
	}
}

func TestTLSExternalLogin(t *testing.T) {
	p := newTestPKI(t)
	in := startTLSInstance(t, p.options(true, true), &netio.CertLogin{})
	url := "amqps://" + in.tlsAddr + "/"
	good := p.ca.Client(t, "tlsuser")
	c, err := amqp.DialTLS_ExternalAuth(url, p.clientConfig(t, &good))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tlsRoundTrip(t, c)
	if !hasConnUser(in.b, "tlsuser") {
		t.Fatal("no connection as tlsuser")
	}

	unknown := p.ca.Client(t, "nobody")
	_, err = amqp.DialTLS_ExternalAuth(url, p.clientConfig(t, &unknown))
	wantCode(t, err, amqp.AccessRefused, "EXTERNAL login of an unknown user")
	r := dialStart(t, in.tlsAddr, p.clientConfig(t, &unknown))
	r.send(t, &frame.ConnectionStartOk{
		ClientProperties: frame.Table{"capabilities": frame.Table{"authentication_failure_close": true}},
		Mechanism:        "EXTERNAL", Locale: "en_US",
	})
	cl, ok := r.next(t).(*frame.ConnectionClose)
	if !ok || cl.ReplyCode != amqp.AccessRefused ||
		cl.ReplyText != "ACCESS_REFUSED - Login was refused using authentication mechanism EXTERNAL. For details see the broker logfile." {
		t.Fatalf("unknown user: %+v", cl)
	}
}

func TestTLSExternalLoginFromSAN(t *testing.T) {
	p := newTestPKI(t)
	in := startTLSInstance(t, p.options(true, false), &netio.CertLogin{From: "subject_alternative_name", SANType: "dns", SANIndex: 1})
	url := "amqps://" + in.tlsAddr + "/"
	cert := p.ca.Client(t, "not-a-user", "first.example", "tlsuser")
	c, err := amqp.DialTLS_ExternalAuth(url, p.clientConfig(t, &cert))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	short := p.ca.Client(t, "tlsuser", "only-one.example")
	if _, err := amqp.DialTLS_ExternalAuth(url, p.clientConfig(t, &short)); err == nil {
		t.Fatal("login without a SAN at index 1 succeeded")
	}
	// verify_peer without fail_if_no_peer_cert: a client without a
	// certificate still logs in with a password, but EXTERNAL is not
	// offered to it and is refused as an unknown mechanism (dropped).
	c, err = amqp.DialTLS("amqps://guest:guest@"+in.tlsAddr+"/", p.clientConfig(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := amqp.DialConfig(url, amqp.Config{SASL: []amqp.Authentication{&amqp.ExternalAuth{}}, TLSClientConfig: p.clientConfig(t, nil)}); err == nil {
		t.Fatal("EXTERNAL without a certificate succeeded")
	}
}

func hasConnUser(b *broker.Broker, user string) bool {
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		for _, e := range b.Registry().Conns() {
			if e.Info.User == user {
				return true
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// startMechanisms dials addr (TLS when cfg is set), sends the protocol
// header and returns connection.start's mechanisms.
func startMechanisms(t *testing.T, addr string, cfg *tls.Config) string {
	t.Helper()
	r := dialStart(t, addr, cfg)
	return r.start.Mechanisms
}

// rawTLS is a hand-driven AMQP connection, past connection.start.
type rawTLS struct {
	nc    net.Conn
	buf   []byte
	start *frame.ConnectionStart
}

func dialStart(t *testing.T, addr string, cfg *tls.Config) *rawTLS {
	t.Helper()
	var nc net.Conn
	var err error
	if cfg != nil {
		nc, err = tls.Dial("tcp", addr, cfg)
	} else {
		nc, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(waitTimeout))
	if _, err := nc.Write([]byte("AMQP\x00\x00\x09\x01")); err != nil {
		t.Fatal(err)
	}
	r := &rawTLS{nc: nc}
	st, ok := r.next(t).(*frame.ConnectionStart)
	if !ok {
		t.Fatal("first method is not connection.start")
	}
	r.start = st
	return r
}

func (r *rawTLS) send(t *testing.T, m frame.Method) {
	t.Helper()
	if _, err := r.nc.Write(frame.AppendMethodFrame(nil, 0, m)); err != nil {
		t.Fatal(err)
	}
}

// next reads the next method frame.
func (r *rawTLS) next(t *testing.T) frame.Method {
	t.Helper()
	chunk := make([]byte, 4096)
	for {
		if f, n, err := frame.Parse(r.buf, 1<<20); err == nil && n > 0 {
			r.buf = r.buf[n:]
			if f.Type != frame.FrameMethod {
				continue
			}
			m, err := frame.DecodeMethod(f.Payload)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		n, err := r.nc.Read(chunk)
		r.buf = append(r.buf, chunk[:n]...)
		if err != nil && n == 0 {
			t.Fatalf("reading a method: %v", err)
		}
	}
}

func TestTLSReloadKeepsConnections(t *testing.T) {
	p := newTestPKI(t)
	in := startTLSInstance(t, p.options(false, false), nil)
	url := "amqps://guest:guest@" + in.tlsAddr + "/"
	old, err := amqp.DialTLS(url, p.clientConfig(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()

	renewed := p.ca.Server(t, "server-renewed")
	replaceFile(t, renewed.CertFile, p.server.CertFile)
	replaceFile(t, renewed.KeyFile, p.server.KeyFile)
	if err := in.certs.Reload(); err != nil {
		t.Fatal(err)
	}
	fresh, err := amqp.DialTLS(url, p.clientConfig(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if got := fresh.ConnectionState().PeerCertificates[0].Subject.CommonName; got != "server-renewed" {
		t.Fatalf("new connection sees %q", got)
	}
	tlsRoundTrip(t, old)
	if old.IsClosed() {
		t.Fatal("old connection closed by the reload")
	}

	// A broken file is refused and the loaded certificate stays.
	if err := os.WriteFile(p.server.KeyFile, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := in.certs.Reload(); err == nil {
		t.Fatal("reload of a garbage key succeeded")
	}
	again, err := amqp.DialTLS(url, p.clientConfig(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	again.Close()
}

func TestTLSWatchReloadsChangedFiles(t *testing.T) {
	p := newTestPKI(t)
	in := startTLSInstance(t, p.options(false, false), nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go in.certs.Watch(ctx, 20*time.Millisecond)
	renewed := p.ca.Server(t, "server-watched")
	replaceFile(t, renewed.KeyFile, p.server.KeyFile)
	replaceFile(t, renewed.CertFile, p.server.CertFile)
	deadline := time.Now().Add(waitTimeout)
	for {
		nc, err := tls.Dial("tcp", in.tlsAddr, p.clientConfig(t, nil))
		if err == nil {
			cn := nc.ConnectionState().PeerCertificates[0].Subject.CommonName
			nc.Close()
			if cn == "server-watched" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("watch did not reload (last err %v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// replaceFile copies src over dst atomically, as deployment tools do.
func replaceFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

func TestTLSEncryptedKey(t *testing.T) {
	p := newTestPKI(t)
	enc := p.server.WriteEncryptedKey(t, filepath.Join(p.dir, "enc.pem"), "s3cret")
	o := p.options(false, false)
	o.KeyFile = enc
	if _, err := netio.LoadTLS(o); err == nil || !strings.Contains(err.Error(), "no password") {
		t.Fatalf("no password: %v", err)
	}
	o.Password = "wrong"
	if _, err := netio.LoadTLS(o); err == nil || !strings.Contains(err.Error(), "wrong password") {
		t.Fatalf("wrong password: %v", err)
	}
	o.Password = "s3cret"
	if _, err := netio.LoadTLS(o); err != nil {
		t.Fatal(err)
	}
	// Keys encrypted by openssl, with its default and an older PRF.
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Log("no openssl: its encrypted keys not tried")
		return
	}
	for i, args := range [][]string{{"-v2", "aes256"}, {"-v2", "aes128", "-v2prf", "hmacWithSHA1"}} {
		out := filepath.Join(p.dir, fmt.Sprintf("openssl-%d.pem", i))
		cmd := exec.Command("openssl", append([]string{"pkcs8", "-topk8", "-in", p.server.KeyFile, "-out", out, "-passout", "pass:s3cret"}, args...)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, b)
		}
		o.KeyFile = out
		if _, err := netio.LoadTLS(o); err != nil {
			t.Fatalf("openssl %v key: %v", args, err)
		}
	}
}

func TestTLSOptionsRefused(t *testing.T) {
	p := newTestPKI(t)
	for name, tc := range map[string]struct {
		edit func(*netio.TLSOptions)
		want string
	}{
		"unknown cipher":    {func(o *netio.TLSOptions) { o.Ciphers = []string{"ECDHE-RSA-AES256-GCM-SHA384", "RC4-MD5"} }, `"RC4-MD5"`},
		"version gap":       {func(o *netio.TLSOptions) { o.Versions = []string{"tlsv1.1", "tlsv1.3"} }, "gap"},
		"unknown version":   {func(o *netio.TLSOptions) { o.Versions = []string{"sslv3"} }, `"sslv3"`},
		"bad verify":        {func(o *netio.TLSOptions) { o.Verify = "verify_maybe" }, "verify_maybe"},
		"peer without ca":   {func(o *netio.TLSOptions) { o.Verify, o.CACertFile = "verify_peer", "" }, "cacertfile"},
		"missing cert":      {func(o *netio.TLSOptions) { o.CertFile = filepath.Join(p.dir, "nope.pem") }, "nope.pem"},
		"key of other pair": {func(o *netio.TLSOptions) { o.KeyFile = p.ca.Client(t, "x").KeyFile }, "private key does not match"},
	} {
		o := p.options(false, false)
		tc.edit(&o)
		if _, err := netio.LoadTLS(o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want it to mention %s", name, err, tc.want)
		}
	}
	o := p.options(false, false)
	o.Ciphers = []string{"ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256"}
	o.Versions = []string{"tlsv1.2"}
	in := startTLSInstance(t, o, nil)
	c, err := amqp.DialTLS("amqps://guest:guest@"+in.tlsAddr+"/", p.clientConfig(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st := c.ConnectionState(); st.Version != tls.VersionTLS12 || st.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 {
		t.Fatalf("negotiated %x %x", st.Version, st.CipherSuite)
	}
}

func TestTLSHandshakeTimeout(t *testing.T) {
	p := newTestPKI(t)
	in := startTLSInstance(t, p.options(false, false), nil)
	nc, err := net.Dial("tcp", in.tlsAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// Send nothing: the server gives up on the TLS handshake after the
	// handshake timeout and closes the socket.
	_ = nc.SetReadDeadline(time.Now().Add(netio.DefaultTLSHandshakeTimeout + waitTimeout))
	if _, err := io.ReadAll(nc); err != nil {
		t.Fatalf("socket not closed by the server: %v", err)
	}
}

// ssl_handshake_timeout bounds the TLS handshake on its own: a peer that
// sends nothing is dropped after it, long before handshake_timeout.
func TestTLSHandshakeTimeoutConfigured(t *testing.T) {
	p := newTestPKI(t)
	in := startTLSInstanceWith(t, p.options(false, false), netio.Config{TLSHandshakeTimeout: 300 * time.Millisecond, HandshakeTimeout: time.Minute})
	nc, err := net.Dial("tcp", in.tlsAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	start := time.Now()
	_ = nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadAll(nc); err != nil {
		t.Fatalf("socket not closed by the server within 20 s: %v", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("closed after %v: the 300 ms ssl_handshake_timeout was not applied", d)
	}
	// A client that does shake hands still has handshake_timeout for AMQP.
	c, err := amqp.DialTLS("amqps://guest:guest@"+in.tlsAddr+"/", p.clientConfig(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	tlsRoundTrip(t, c)
	_ = c.Close()
}

func TestTLSExternalLoginFromDN(t *testing.T) {
	p := newTestPKI(t)
	in := startTLSInstance(t, p.options(true, true), &netio.CertLogin{From: "distinguished_name"})
	const dn = "CN=dnuser,O=Warren tests"
	if err := in.b.Users().Add(broker.User{Name: dn}); err != nil {
		t.Fatal(err)
	}
	if err := in.b.Users().SetPermissions(broker.Permission{User: dn, VHost: "/", Configure: ".*", Write: ".*", Read: ".*"}); err != nil {
		t.Fatal(err)
	}
	cert := p.ca.Client(t, "dnuser")
	c, err := amqp.DialTLS_ExternalAuth("amqps://"+in.tlsAddr+"/", p.clientConfig(t, &cert))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !hasConnUser(in.b, dn) {
		t.Fatal("no connection as the DN user")
	}
}
