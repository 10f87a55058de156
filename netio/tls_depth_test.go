package netio_test

import (
	"crypto/tls"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// ssl_options.depth bounds the intermediates between a client certificate
// and the trusted CA, as Erlang ssl's depth does: a client two
// intermediates below the root is refused at depth 1 and accepted at 2
// and at the default.
func TestTLSDepth(t *testing.T) {
	p := newTestPKI(t)
	leaf := p.ca.Intermediate(t, "inter-1").Intermediate(t, "inter-2").Client(t, "tlsuser")
	if len(leaf.Chain) != 2 {
		t.Fatalf("chain of %d intermediates, want 2", len(leaf.Chain))
	}
	cert := tls.Certificate{Certificate: [][]byte{leaf.Cert.Raw}, PrivateKey: leaf.Key, Leaf: leaf.Cert}
	for _, c := range leaf.Chain {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	cfg := p.clientConfig(t, nil)
	cfg.Certificates = []tls.Certificate{cert}
	for _, c := range []struct {
		depth *int
		ok    bool
	}{{intp(1), false}, {intp(2), true}, {nil, true}, {intp(0), false}} {
		o := p.options(true, true)
		o.Depth = c.depth
		in := startTLSInstance(t, o, nil)
		conn, err := amqp.DialTLS("amqps://guest:guest@"+in.tlsAddr+"/", cfg)
		if err == nil {
			tlsRoundTrip(t, conn)
			_ = conn.Close()
		}
		if (err == nil) != c.ok {
			t.Errorf("depth %v: dial error %v, want success %v", deref(c.depth), err, c.ok)
		}
	}
}

func intp(n int) *int { return &n }

func deref(p *int) any {
	if p == nil {
		return "default"
	}
	return *p
}
