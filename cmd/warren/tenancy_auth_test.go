//go:build linux

package main

import (
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/frame"
)

// startMechanisms sends the protocol header to addr (over TLS with cfg)
// and returns connection.start's mechanisms.
func startMechanisms(t *testing.T, addr string, cfg *tls.Config) string {
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
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := nc.Write(frame.ProtocolHeader[:]); err != nil {
		t.Fatal(err)
	}
	var buf []byte
	chunk := make([]byte, 4096)
	for {
		if f, n, err := frame.Parse(buf, 1<<20); err == nil && n > 0 {
			m, err := frame.DecodeMethod(f.Payload)
			if err != nil {
				t.Fatal(err)
			}
			st, ok := m.(*frame.ConnectionStart)
			if !ok {
				t.Fatalf("first method %T, want connection.start", m)
			}
			return st.Mechanisms
		}
		n, err := nc.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if err != nil && n == 0 {
			t.Fatalf("reading connection.start: %v", err)
		}
	}
}

func dialSASL(url string, auth amqp.Authentication) (*amqp.Connection, error) {
	return amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second), SASL: []amqp.Authentication{auth}})
}

// auth_mechanisms is what connection.start offers and what start-ok may
// pick, as in RabbitMQ: a list of AMQPLAIN alone refuses PLAIN.
func TestAuthMechanismsRestrictPasswordLogins(t *testing.T) {
	conf := writeConf(t, "auth_mechanisms.1 = AMQPLAIN\n")
	p := startWarren(t, t.TempDir()+"/data", procOptions{args: []string{"-config", conf}})
	if got := startMechanisms(t, p.addr, nil); got != "AMQPLAIN" {
		t.Errorf("offered %q, want AMQPLAIN alone", got)
	}
	if c, err := dialSASL(p.url, &amqp.PlainAuth{Username: "guest", Password: "guest"}); err == nil {
		_ = c.Close()
		t.Error("PLAIN login accepted although auth_mechanisms leaves it out")
	}
	c, err := dialSASL(p.url, &amqp.AMQPlainAuth{Username: "guest", Password: "guest"})
	if err != nil {
		t.Fatalf("AMQPLAIN login: %v", err)
	}
	_ = c.Close()
	if log := p.log(); strings.Contains(log, "auth_mechanisms") {
		t.Errorf("auth_mechanisms reported in the log:\n%s", log)
	}
}

// auth_mechanisms.1 = EXTERNAL with a TLS listener that requires client
// certificates: certificates are the only way in. A plain connection is
// offered nothing, a TLS one EXTERNAL only; PLAIN with the right password
// is refused even over TLS; EXTERNAL logs in as the certificate's CN.
func TestAuthMechanismsExternalOnly(t *testing.T) {
	f := newTLSFiles(t)
	conf := writeConf(t, `
auth_mechanisms.1 = EXTERNAL
ssl_cert_login_from = common_name
listeners.ssl.default = 127.0.0.1:0
ssl_options.certfile = `+f.server.CertFile+`
ssl_options.keyfile = `+f.server.KeyFile+`
ssl_options.cacertfile = `+f.ca.CertFile+`
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
`)
	p := startWarren(t, t.TempDir()+"/data", procOptions{args: []string{"-config", conf}})
	tlsAddr := amqpsAddr(t, p)
	if got := startMechanisms(t, p.addr, nil); got != "" {
		t.Errorf("plain TCP offered %q, want nothing", got)
	}
	if got := startMechanisms(t, tlsAddr, f.clientConfig(t)); got != "EXTERNAL" {
		t.Errorf("TLS with a client certificate offered %q, want EXTERNAL alone", got)
	}
	if c, err := dialSASL(p.url, &amqp.PlainAuth{Username: "guest", Password: "guest"}); err == nil {
		_ = c.Close()
		t.Error("PLAIN login over plain TCP accepted with auth_mechanisms.1 = EXTERNAL")
	}
	if c, err := amqp.DialTLS("amqps://guest:guest@"+tlsAddr+"/", f.clientConfig(t)); err == nil {
		_ = c.Close()
		t.Error("PLAIN login over TLS accepted with auth_mechanisms.1 = EXTERNAL")
	}
	c, err := amqp.DialTLS_ExternalAuth("amqps://"+tlsAddr+"/", f.clientConfig(t))
	if err != nil {
		t.Fatalf("EXTERNAL login: %v", err)
	}
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare("", false, true, true, false, nil); err != nil {
		t.Fatalf("EXTERNAL login (guest) cannot declare: %v", err)
	}
}
