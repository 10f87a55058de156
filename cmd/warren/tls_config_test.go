//go:build linux

package main

import (
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/cmd/warren/config"
)

// rabbitmq.conf's TLS keys start the AMQPS listener: verify_peer with
// fail_if_no_peer_cert refuses a client without a certificate, EXTERNAL
// from auth_mechanisms logs the certificate's CN in, PLAIN still works over
// TLS, and nothing is reported as not in effect.
func TestConfigTLSListener(t *testing.T) {
	f := newTLSFiles(t)
	dir := t.TempDir()
	conf := writeConf(t, `
listeners.tcp.default = 127.0.0.1:0
listeners.ssl.default = 127.0.0.1:0
management.tcp.port = 0
warren.data_dir = `+dir+`/data
ssl_options.cacertfile = `+f.ca.CertFile+`
ssl_options.certfile = `+f.server.CertFile+`
ssl_options.keyfile = `+f.server.KeyFile+`
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
ssl_options.versions.1 = tlsv1.3
ssl_options.versions.2 = tlsv1.2
auth_mechanisms.1 = PLAIN
auth_mechanisms.2 = AMQPLAIN
auth_mechanisms.3 = EXTERNAL
ssl_cert_login_from = common_name
`)
	p := startWarren(t, dir+"/data", procOptions{bare: true, args: []string{"-config", conf}})
	if strings.Contains(p.log(), "not yet in effect") {
		t.Errorf("TLS keys reported as not in effect:\n%s", p.log())
	}
	addr := amqpsAddr(t, p)
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("amqps on %s, want listeners.ssl.default's 127.0.0.1", addr)
	}
	url := "amqps://" + addr + "/"

	ext, err := amqp.DialTLS_ExternalAuth(url, f.clientConfig(t))
	if err != nil {
		t.Fatalf("EXTERNAL with a client certificate: %v", err)
	}
	ch, err := ext.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare("", false, true, true, false, nil); err != nil {
		t.Fatalf("declare as the certificate's user: %v", err)
	}
	_ = ext.Close()

	plain, err := amqp.DialTLS("amqps://guest:guest@"+addr+"/", f.clientConfig(t))
	if err != nil {
		t.Fatalf("PLAIN over TLS with a client certificate: %v", err)
	}
	_ = plain.Close()

	noCert := f.clientConfig(t)
	noCert.Certificates = nil
	if c, err := amqp.DialTLS("amqps://guest:guest@"+addr+"/", noCert); err == nil {
		_ = c.Close()
		t.Fatal("fail_if_no_peer_cert: a client without a certificate got in")
	}
	p.checkLog(t, "TLS from the config file")
}

// The flags beat the file field by field; management.ssl.* makes the
// HTTPS listener with its own files; without ssl_cert_login_from EXTERNAL
// names the user by the whole subject, as RabbitMQ does.
func TestTLSPlanPrecedence(t *testing.T) {
	f := newTLSFiles(t)
	conf := writeConf(t, `
listeners.ssl.default = 10.0.0.1:5671
ssl_options.certfile = `+f.server.CertFile+`
ssl_options.keyfile = `+f.server.KeyFile+`
ssl_options.cacertfile = `+f.ca.CertFile+`
ssl_options.verify = verify_peer
ssl_options.depth = 3
ssl_options.ciphers.2 = ECDHE-ECDSA-AES128-GCM-SHA256
ssl_options.ciphers.1 = ECDHE-ECDSA-AES256-GCM-SHA384
management.ssl.port = 15671
management.ssl.ip = 127.0.0.2
management.ssl.certfile = `+f.client.CertFile+`
management.ssl.keyfile = `+f.client.KeyFile+`
auth_mechanisms.1 = EXTERNAL
`)
	l, err := config.Load(conf)
	if err != nil {
		t.Fatal(err)
	}
	if got := authMechanisms(&l.Config, true); strings.Join(got, " ") != "EXTERNAL" || len(l.NotInEffect) != 0 {
		t.Errorf("an EXTERNAL-only list gives mechanisms %v, not in effect %v; want EXTERNAL alone, in effect", got, l.NotInEffect)
	}
	fl, err := parseFlags([]string{"-amqps-port", "5999", "-tls-verify", "verify_none"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := fl.tls.plan(&l.Config, visited(fl.fs))
	if err != nil {
		t.Fatal(err)
	}
	if p.amqpsAddr != "10.0.0.1:5999" || p.amqps.Verify != "verify_none" || p.amqps.CACertFile != f.ca.CertFile ||
		*p.amqps.Depth != 3 || strings.Join(p.amqps.Ciphers, ",") != "ECDHE-ECDSA-AES256-GCM-SHA384,ECDHE-ECDSA-AES128-GCM-SHA256" {
		t.Errorf("amqps %s %+v", p.amqpsAddr, p.amqps)
	}
	if p.httpsAddr != "127.0.0.2:15671" || p.https.CertFile != f.client.CertFile {
		t.Errorf("https %s %+v", p.httpsAddr, p.https)
	}
	if p.login == nil || p.login.From != "distinguished_name" {
		t.Errorf("login %+v, want EXTERNAL by distinguished_name", p.login)
	}
	s, err := loadTLSSetup(p, 0)
	if err != nil || s.amqps == nil || s.https == nil {
		t.Fatalf("loading the planned files: %v", err)
	}

	// -auth-external=false and -https-port 0 turn the file's off.
	fl, err = parseFlags([]string{"-auth-external=false", "-https-port", "0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, err = fl.tls.plan(&l.Config, visited(fl.fs)); err != nil || p.login != nil || p.https != nil {
		t.Errorf("flags turning EXTERNAL and HTTPS off: %+v, %v", p, err)
	}
}
