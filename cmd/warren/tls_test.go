package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/mgmt"
	"github.com/warrenmq/warren/netio"
	"github.com/warrenmq/warren/netio/testpki"
)

var amqpsLine = regexp.MustCompile(`msg="amqps listening" amqps=(\S+)`)

type tlsFiles struct {
	ca     *testpki.CA
	server testpki.Pair
	client testpki.Pair // CN guest
}

func newTLSFiles(t *testing.T) *tlsFiles {
	dir := t.TempDir()
	ca := testpki.NewCA(t, dir, "warren-cmd-test")
	return &tlsFiles{ca: ca, server: ca.Server(t, "server"), client: ca.Client(t, "guest")}
}

func (f *tlsFiles) args() []string {
	return []string{
		"-amqps-port", "0", "-tls-cert", f.server.CertFile, "-tls-key", f.server.KeyFile, "-tls-ca", f.ca.CertFile,
		"-tls-verify", "verify_peer", "-tls-fail-if-no-peer-cert", "-auth-external",
	}
}

func (f *tlsFiles) clientConfig(t *testing.T) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(f.ca.Cert)
	pair, err := tls.LoadX509KeyPair(f.client.CertFile, f.client.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{RootCAs: pool, ServerName: "localhost", Certificates: []tls.Certificate{pair}}
}

func amqpsAddr(t *testing.T, p *warrenProc) string {
	t.Helper()
	m := amqpsLine.FindStringSubmatch(p.log())
	if m == nil {
		t.Fatalf("no amqps listening line; log:\n%s", tail(p.log(), 4000))
	}
	return m[1]
}

// TestTLSProcess: AMQPS with a required client certificate, EXTERNAL
// login as the certificate's CN with amqp091-go and pika, PLAIN over TLS
// with pika, and a SIGHUP reload that keeps the open connection and shows
// new connections the new certificate.
func TestTLSProcess(t *testing.T) {
	f := newTLSFiles(t)
	p := startWarren(t, t.TempDir()+"/data", procOptions{args: f.args()})
	addr := amqpsAddr(t, p)

	c, err := amqp.DialTLS_ExternalAuth("amqps://"+addr+"/", f.clientConfig(t))
	if err != nil {
		t.Fatalf("EXTERNAL login: %v", err)
	}
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}

	if err := exec.Command("/usr/bin/python3", "-c", "import pika").Run(); err != nil {
		t.Log("/usr/bin/python3 has no pika: pika part skipped")
	} else {
		host, port, _ := strings.Cut(addr, ":")
		for _, mode := range []string{"external", "plain"} {
			out, err := runScript(t, 2*time.Minute, "/usr/bin/python3", "testdata/tls_pika.py", host, port, f.ca.CertFile, f.client.CertFile, f.client.KeyFile, mode)
			if err != nil || !strings.Contains(out, "ok") {
				t.Fatalf("pika %s: %v\n%s", mode, err, out)
			}
		}
	}

	renewed := f.ca.Server(t, "server-renewed")
	for _, pair := range [][2]string{{renewed.CertFile, f.server.CertFile}, {renewed.KeyFile, f.server.KeyFile}} {
		b, err := os.ReadFile(pair[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pair[1]+".new", b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(pair[1]+".new", pair[1]); err != nil {
			t.Fatal(err)
		}
	}
	if code, exited := p.signal(syscall.SIGHUP, 0); exited {
		t.Fatalf("exited (%d) on SIGHUP", code)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.log(), "TLS certificate reloaded") {
		if time.Now().After(deadline) {
			t.Fatalf("no reload line; log:\n%s", tail(p.log(), 4000))
		}
		time.Sleep(10 * time.Millisecond)
	}
	fresh, err := amqp.DialTLS_ExternalAuth("amqps://"+addr+"/", f.clientConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if cn := fresh.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != "server-renewed" {
		t.Fatalf("new connection sees %q", cn)
	}
	fresh.Close()
	if err := ch.Publish("", q.Name, false, false, amqp.Publishing{Body: []byte("after reload")}); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		m, ok, err := ch.Get(q.Name, true)
		if err != nil {
			t.Fatalf("old connection after reload: %v", err)
		}
		if ok && string(m.Body) == "after reload" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("message not back on the old connection")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, exited := p.signal(syscall.SIGTERM, 30*time.Second); !exited || code != 0 {
		t.Fatalf("SIGTERM: exited=%v code=%d", exited, code)
	}
	p.checkLog(t, "TLS")
}

// Bad TLS files stop warren at start with status 2 and a message naming
// the file.
func TestTLSBadFilesExit2(t *testing.T) {
	f := newTLSFiles(t)
	missing := filepath.Join(t.TempDir(), "missing.pem")
	for name, args := range map[string][]string{
		"missing cert":   {"-tls-cert", missing, "-tls-key", f.server.KeyFile},
		"mismatched key": {"-tls-cert", f.server.CertFile, "-tls-key", f.client.KeyFile},
		"unknown cipher": {"-tls-cert", f.server.CertFile, "-tls-key", f.server.KeyFile, "-tls-ciphers", "NOT-A-CIPHER"},
	} {
		p := startWarren(t, t.TempDir()+"/data", procOptions{args: args, noWait: true})
		select {
		case <-p.done:
		case <-time.After(60 * time.Second):
			t.Fatalf("%s: still running", name)
		}
		if code := p.state.ExitCode(); code != 2 {
			t.Errorf("%s: exit code %d, want 2; log:\n%s", name, code, p.log())
		}
		if want := map[string]string{"missing cert": "missing.pem", "mismatched key": "does not match", "unknown cipher": "NOT-A-CIPHER"}[name]; !strings.Contains(p.log(), want) {
			t.Errorf("%s: log does not mention %q:\n%s", name, want, p.log())
		}
	}
}

// The management API over HTTPS.
func TestTLSManagementHTTPS(t *testing.T) {
	f := newTLSFiles(t)
	certs, err := netio.LoadTLS(netio.TLSOptions{CertFile: f.server.CertFile, KeyFile: f.server.KeyFile})
	if err != nil {
		t.Fatal(err)
	}
	b, err := broker.Open(broker.Config{DataDir: t.TempDir(), Users: broker.DefaultUsers()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	hs, err := mgmt.Listen("127.0.0.1:0", b)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- hs.ServeTLS(certs.Config()) }()
	defer func() {
		_ = hs.Shutdown(t.Context())
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	}()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: f.clientConfig(t)}, Timeout: 30 * time.Second}
	resp, err := client.Get("https://" + hs.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" || resp.TLS == nil {
		t.Fatalf("healthz over https: %d %q", resp.StatusCode, body)
	}
}
