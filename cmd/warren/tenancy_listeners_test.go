//go:build linux

package main

import (
	"regexp"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

var (
	amqpListenLine  = regexp.MustCompile(`msg="amqp listening" amqp=(\S+) listener=(\S+)`)
	amqpsListenLine = regexp.MustCompile(`msg="amqps listening" amqps=(\S+)`)
)

// Every listeners.tcp.* and listeners.ssl.* of the file is served, as in
// RabbitMQ (port 0 here so that the kernel picks free ports; the log says
// which): a client gets in through each.
func TestEveryListenerServed(t *testing.T) {
	f := newTLSFiles(t)
	conf := writeConf(t, `
listeners.tcp.default = 127.0.0.1:0
listeners.tcp.second = 127.0.0.1:0
listeners.tcp.third = 127.0.0.1:0
listeners.ssl.1 = 127.0.0.1:0
listeners.ssl.2 = 127.0.0.1:0
ssl_options.certfile = `+f.server.CertFile+`
ssl_options.keyfile = `+f.server.KeyFile+`
ssl_options.cacertfile = `+f.ca.CertFile+`
ssl_options.verify = verify_peer
`)
	p := startWarren(t, t.TempDir()+"/data", procOptions{args: []string{"-config", conf}})
	log := p.log()
	addrs := []string{p.addr}
	for _, m := range amqpListenLine.FindAllStringSubmatch(log, -1) {
		addrs = append(addrs, m[1])
	}
	if len(addrs) != 3 {
		t.Fatalf("%d AMQP listeners, want 3; log:\n%s", len(addrs), log)
	}
	for _, a := range addrs {
		c, err := dialAMQP("amqp://guest:guest@"+a+"/", 0)
		if err != nil {
			t.Errorf("listener %s: %v", a, err)
			continue
		}
		_ = c.Close()
	}
	tls := amqpsListenLine.FindAllStringSubmatch(log, -1)
	if len(tls) != 2 {
		t.Fatalf("%d AMQPS listeners, want 2; log:\n%s", len(tls), log)
	}
	for _, m := range tls {
		c, err := amqp.DialTLS("amqps://guest:guest@"+m[1]+"/", f.clientConfig(t))
		if err != nil {
			t.Errorf("AMQPS listener %s: %v", m[1], err)
			continue
		}
		_ = c.Close()
	}
	if code, ok := p.signal(15, 30e9); !ok || code != 0 {
		t.Fatalf("stop with every listener open: exit %d (exited %v)", code, ok)
	}
	p.checkLog(t, "listeners")
}
