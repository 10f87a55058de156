//go:build linux

package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Each test here starts warren with a config file and watches the setting
// take effect through a real client.

func writeConf(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "warren.conf")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// dialTune connects asking for more than any server offers (a 60 s
// heartbeat, no channel limit, amqp091-go's 128 KiB frames), so the
// connection's Config shows what the server's connection.tune proposed.
func dialTune(url string) (*amqp.Connection, error) {
	return amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second), Heartbeat: 60 * time.Second})
}

// withUser puts user:pass into an amqp://guest:guest@host/ URL.
func withUser(url, user, pass string) string {
	return strings.Replace(url, "guest:guest@", user+":"+pass+"@", 1)
}

func TestConfigTuneAndLimits(t *testing.T) {
	conf := writeConf(t, "heartbeat = 7\nframe_max = 16384\nchannel_max = 32\nmax_message_size = 4096\n")
	p := startWarren(t, t.TempDir()+"/data", procOptions{args: []string{"-config", conf}})
	c, err := dialTune(p.url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Config.Heartbeat != 7*time.Second || c.Config.FrameSize != 16384 || c.Config.ChannelMax != 32 {
		t.Fatalf("tuned heartbeat %v, frame_max %d, channel_max %d; want 7s, 16384, 32", c.Config.Heartbeat, c.Config.FrameSize, c.Config.ChannelMax)
	}
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	closed := ch.NotifyClose(make(chan *amqp.Error, 1))
	if err := ch.Publish("", "nowhere", false, false, amqp.Publishing{Body: make([]byte, 5000)}); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-closed:
		if e == nil || e.Code != amqp.PreconditionFailed || !strings.Contains(e.Reason, "larger than configured max size 4096") {
			t.Fatalf("channel closed with %v, want 406 for max_message_size", e)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a 5000-byte message was not refused with max_message_size = 4096")
	}
}

// handshake_timeout is in milliseconds, as in RabbitMQ: a silent peer is
// dropped well before the 10 s default.
func TestConfigHandshakeTimeout(t *testing.T) {
	conf := writeConf(t, "handshake_timeout = 200\n")
	p := startWarren(t, t.TempDir()+"/data", procOptions{args: []string{"-config", conf}})
	nc, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	start := time.Now()
	_ = nc.SetReadDeadline(time.Now().Add(8 * time.Second))
	_, err = nc.Read(make([]byte, 1))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("a silent peer was still connected after %v with handshake_timeout = 200", time.Since(start))
	}
}

func TestConfigDefaultUser(t *testing.T) {
	conf := writeConf(t, "default_user = ops\ndefault_pass = s3cret # a comment\n")
	p := startWarren(t, t.TempDir()+"/data", procOptions{args: []string{"-config", conf}})
	c, err := dialAMQP(withUser(p.url, "ops", "s3cret"), 0)
	if err != nil {
		t.Fatalf("default_user ops cannot log in: %v", err)
	}
	_ = c.Close()
	if c, err := dialAMQP(p.url, 0); err == nil {
		_ = c.Close()
		t.Fatal("guest still logs in although default_user replaced it")
	}

	// RABBITMQ_DEFAULT_USER, _PASS and _VHOST beat the file, as in
	// RabbitMQ (the official Docker image's way to set them).
	env := []string{"RABBITMQ_DEFAULT_USER=envuser", "RABBITMQ_DEFAULT_PASS=envpass", "RABBITMQ_DEFAULT_VHOST=envhost"}
	p = startWarren(t, t.TempDir()+"/data", procOptions{args: []string{"-config", conf}, env: env})
	c, err = dialAMQP("amqp://envuser:envpass@"+p.addr+"/envhost", 0)
	if err != nil {
		t.Fatalf("RABBITMQ_DEFAULT_USER envuser cannot open RABBITMQ_DEFAULT_VHOST envhost: %v", err)
	}
	_ = c.Close()
	if c, err := dialAMQP(withUser(p.url, "ops", "s3cret"), 0); err == nil {
		_ = c.Close()
		t.Fatal("the file's default_user logs in although RABBITMQ_DEFAULT_USER replaced it")
	}
}

// nonLoopbackIP is an address of this machine that is not loopback, for
// the loopback_users tests; "" if there is none.
func nonLoopbackIP() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}

func TestConfigLoopbackUsers(t *testing.T) {
	ip := nonLoopbackIP()
	if ip == "" {
		t.Skip("no non-loopback IPv4 address on this machine")
	}
	for _, c := range []struct {
		conf    string
		allowed bool
	}{
		{"", false}, // RabbitMQ's default: guest over loopback only
		{"loopback_users.guest = false\n", true},
		{"loopback_users = none\n", true},
		{"default_user = admin\ndefault_pass = pw\nloopback_users.admin = true\n", false},
	} {
		dir := t.TempDir()
		conf := writeConf(t, "listeners.tcp.default = 0.0.0.0:0\nmanagement.tcp.port = 0\nwarren.data_dir = "+dir+"/data\n"+c.conf)
		p := startWarren(t, dir+"/data", procOptions{bare: true, args: []string{"-config", conf}})
		_, port, _ := net.SplitHostPort(p.addr)
		url := "amqp://guest:guest@" + net.JoinHostPort(ip, port) + "/"
		if strings.Contains(c.conf, "admin") {
			url = withUser(url, "admin", "pw")
		}
		conn, err := dialAMQP(url, 0)
		if conn != nil {
			_ = conn.Close()
		}
		if (err == nil) != c.allowed {
			t.Errorf("%q: login from %s: err %v, want allowed=%v", c.conf, ip, err, c.allowed)
		}
		if !c.allowed && err != nil && !strings.Contains(err.Error(), "403") {
			t.Errorf("%q: refused with %v, want 403 ACCESS_REFUSED", c.conf, err)
		}
		_, _ = p.signal(15, 30*time.Second)
	}
}

// The listener and Warren's own keys come from the file when no flag
// overrides them: the address, the data dir, the segment size.
func TestConfigListenerDataDirSegmentSize(t *testing.T) {
	dir := t.TempDir()
	conf := writeConf(t, `
listeners.tcp.default = 127.0.0.1:0
management.tcp.port = 0
warren.data_dir = `+dir+`/fromconf
warren.segment_size = 64kB
`)
	p := startWarren(t, dir+"/fromconf", procOptions{bare: true, args: []string{"-config", conf}})
	if !strings.HasPrefix(p.addr, "127.0.0.1:") {
		t.Fatalf("listening on %s", p.addr)
	}
	c := mustDial(t, p.url)
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ch.QueueDeclare("conf-seg", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 64))
	for range 40 {
		if err := ch.Publish("", q.Name, false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: make([]byte, 8000)}); err != nil {
			t.Fatal(err)
		}
	}
	for range 40 {
		select {
		case cf := <-confirms:
			if !cf.Ack {
				t.Fatal("nack")
			}
		case <-time.After(30 * time.Second):
			t.Fatal("no confirm")
		}
	}
	var segs []string
	_ = filepath.Walk(dir+"/fromconf", func(path string, info os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(filepath.Base(path), "seg.") {
			segs = append(segs, path)
		}
		return nil
	})
	// 320 kB in 64 kB segments: five or more files (one 8 MiB one without
	// the setting).
	if len(segs) < 5 {
		t.Fatalf("%d segment files under the configured data dir, want >= 5 with warren.segment_size = 64kB: %v", len(segs), segs)
	}
}

// Precedence: file < WARREN_* environment < flags; RABBITMQ_NODE_PORT
// beats the file's listener.
func TestConfigPrecedence(t *testing.T) {
	conf := writeConf(t, "heartbeat = 7\n")
	for _, c := range []struct {
		env  []string
		args []string
		want time.Duration
	}{
		{nil, nil, 7 * time.Second},
		{[]string{"WARREN_HEARTBEAT=9"}, nil, 9 * time.Second},
		{[]string{"WARREN_HEARTBEAT=9"}, []string{"-heartbeat", "11"}, 11 * time.Second},
	} {
		p := startWarren(t, t.TempDir()+"/data", procOptions{env: c.env, args: append([]string{"-config", conf}, c.args...)})
		conn, err := dialTune(p.url)
		if err != nil {
			t.Fatal(err)
		}
		if conn.Config.Heartbeat != c.want {
			t.Errorf("env %v args %v: heartbeat %v, want %v", c.env, c.args, conn.Config.Heartbeat, c.want)
		}
		_ = conn.Close()
		_, _ = p.signal(15, 30*time.Second)
	}

	dir := t.TempDir()
	// The file's port is never bound: RABBITMQ_NODE_PORT=0 wins.
	conf = writeConf(t, "listeners.tcp.default = 127.0.0.1:1\nmanagement.tcp.port = 0\nwarren.data_dir = "+dir+"/data\n")
	p := startWarren(t, dir+"/data", procOptions{bare: true, args: []string{"-config", conf}, env: []string{"RABBITMQ_NODE_PORT=0"}})
	if strings.HasSuffix(p.addr, ":1") {
		t.Fatalf("listening on %s: RABBITMQ_NODE_PORT did not override the file", p.addr)
	}
	// RABBITMQ_CONFIG_FILE may leave out .conf, as RabbitMQ allows.
	dir = t.TempDir()
	base := filepath.Join(dir, "rabbitmq")
	if err := os.WriteFile(base+".conf", []byte("heartbeat = 13\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p = startWarren(t, dir+"/data", procOptions{env: []string{"RABBITMQ_CONFIG_FILE=" + base}})
	conn, err := dialTune(p.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if conn.Config.Heartbeat != 13*time.Second {
		t.Fatalf("RABBITMQ_CONFIG_FILE without .conf: heartbeat %v, want 13s", conn.Config.Heartbeat)
	}
}

// A bad file stops warren at once with exit status 2 and one line naming
// the file, the line and the reason.
func TestConfigErrorsExit2(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"heartbeat = 10\n\nqueue_magic = on\n", ":3: queue_magic: unknown key"},
		{"# ok\nchannel_max = lots\n", `:2: channel_max: "lots" is not an integer`},
	} {
		conf := writeConf(t, c.text)
		_, errOut, code := runBinary(t, nil, "-config", conf, "-amqp-port", "0", "-http-port", "0", "-data-dir", t.TempDir())
		if code != 2 {
			t.Errorf("%q: exit %d, want 2; stderr %s", c.text, code, errOut)
		}
		if want := "warren: " + conf + c.want; !strings.HasPrefix(errOut, want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%q: stderr %q, want one line starting %q", c.text, errOut, want)
		}
	}
	_, errOut, code := runBinary(t, nil, "-config", "/nonexistent/warren.conf")
	if code != 2 || !strings.Contains(errOut, "/nonexistent/warren.conf: cannot read") {
		t.Errorf("missing file: exit %d, stderr %q", code, errOut)
	}
}

// testdata/rabbitmq.conf is a RabbitMQ 3.x config as its documentation
// writes one (TLS listener and options, a default user, both alarms,
// clustering): it starts warren unchanged but for the ports (-amqps-port
// 0 beats listeners.ssl.default, -https-port 0 turns management.ssl off),
// the features not built yet are listed once, the RabbitMQ-only keys once,
// the default user works, and its AMQPS listener asks for a client
// certificate (verify_peer, fail_if_no_peer_cert).
func TestConfigRabbitMQExampleStarts(t *testing.T) {
	p := startWarren(t, t.TempDir()+"/data", procOptions{args: []string{"-config", "testdata/rabbitmq.conf", "-amqps-port", "0", "-https-port", "0"}})
	log := p.log()
	for _, want := range []string{
		`msg="config: accepted, not yet in effect"`, "ssl_options.honor_cipher_order",
		`msg="config: RabbitMQ settings Warren ignores"`, "cluster_formation.peer_discovery_backend", "cluster_name",
		`msg="amqps listening"`, "verify=verify_peer",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	for _, inEffect := range []string{"listeners.ssl.default (line", "ssl_options.cacertfile", "ssl_options.verify", "management.ssl.port", "ssl_handshake_timeout"} {
		if strings.Contains(log, inEffect) {
			t.Errorf("%s reported although in effect:\n%s", inEffect, log)
		}
	}
	if n := strings.Count(log, "not yet in effect"); n != 1 {
		t.Errorf("%d not-yet-in-effect lines, want one", n)
	}
	c, err := dialTune(withUser(p.url, "warren-admin", "changeme"))
	if err != nil {
		t.Fatalf("default_user of the example cannot log in: %v", err)
	}
	if c.Config.Heartbeat != 30*time.Second {
		t.Errorf("heartbeat %v, want the file's 30s", c.Config.Heartbeat)
	}
	_ = c.Close()

	ca, err := os.ReadFile("testdata/tls/ca_certificate.pem")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	_, port, _ := net.SplitHostPort(amqpsAddr(t, p))
	if tc, err := amqp.DialTLS("amqps://warren-admin:changeme@127.0.0.1:"+port+"/", &tls.Config{RootCAs: pool}); err == nil {
		_ = tc.Close()
		t.Fatal("the example's AMQPS listener let a client without a certificate in")
	}
}

// default_vhost and default_permissions seed a fresh data dir: the default
// user may open that vhost only, with those permissions.
func TestConfigDefaultVHostAndPermissions(t *testing.T) {
	conf := writeConf(t, "default_vhost = tenant\ndefault_permissions.configure = ^own-\ndefault_permissions.write = .*\ndefault_permissions.read = .*\n")
	p := startWarren(t, t.TempDir()+"/data", procOptions{args: []string{"-config", conf}})
	if c, err := dialAMQP(p.url, 0); err == nil {
		_ = c.Close()
		t.Fatal("guest opened / although default_vhost is tenant")
	}
	c, err := dialAMQP(strings.TrimSuffix(p.url, "/")+"/tenant", 0)
	if err != nil {
		t.Fatalf("guest cannot open tenant: %v", err)
	}
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare("own-q", false, false, false, false, nil); err != nil {
		t.Fatalf("declare within default_permissions.configure: %v", err)
	}
	if _, err := ch.QueueDeclare("other-q", false, false, false, false, nil); err == nil {
		t.Fatal("declare outside default_permissions.configure succeeded")
	}
}
