package mgmt

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strconv"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/netio"
	"github.com/warrenmq/warren/netio/streamproto"
	"github.com/warrenmq/warren/netio/testpki"
)

// /api/overview lists every listener the broker has open, in RabbitMQ's
// shape and order: two plain AMQP listeners, AMQPS, stream, the API's
// HTTP and the Prometheus one; a listener that closes leaves the list.
func TestOverviewListsEveryListener(t *testing.T) {
	b, err := broker.Open(broker.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	srv := netio.NewServer(netio.Config{Addr: "127.0.0.1:0"}, b)
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run() }()
	select {
	case <-srv.Ready():
	case err := <-runErr:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("AMQP listener not ready")
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
	}()
	amqpAddr, _ := srv.Addr()
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	more := listen()
	go func() { _ = srv.ServeListener(more) }()
	ca := testpki.NewCA(t, t.TempDir(), "ca")
	pair := ca.Server(t, "localhost")
	certs, err := netio.LoadTLS(netio.TLSOptions{CertFile: pair.CertFile, KeyFile: pair.KeyFile})
	if err != nil {
		t.Fatal(err)
	}
	amqps := listen()
	go func() { _ = srv.ServeTLS(amqps, certs) }()
	stream := streamproto.NewServer(streamproto.Config{}, b)
	streamLn := listen()
	go func() { _ = stream.Serve(streamLn) }()
	defer stream.Close()
	prom, err := ListenPrometheus("127.0.0.1:0", b)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = prom.Serve() }()
	s, err := ListenConfig(Config{Addr: "127.0.0.1:0", AMQP: amqpAddr}, b)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve() }()
	defer s.Shutdown(context.Background())
	tg := &target{base: "http://" + s.Addr().String(), b: b, id: newID()}

	type key struct {
		protocol string
		port     float64
	}
	portOf := func(a net.Addr) float64 { return float64(a.(*net.TCPAddr).Port) }
	want := []key{
		{"amqp", portOf(amqpAddr)}, {"amqp", portOf(more.Addr())}, {"amqp/ssl", portOf(amqps.Addr())},
		{"http", portOf(s.Addr())}, {"http/prometheus", portOf(prom.Addr())}, {"stream", portOf(streamLn.Addr())},
	}
	listed := func() map[key]map[string]any {
		got := map[key]map[string]any{}
		var order []string
		for _, e := range object(t, tg, "/api/overview")["listeners"].([]any) {
			m := e.(map[string]any)
			got[key{m["protocol"].(string), m["port"].(float64)}] = m
			order = append(order, m["protocol"].(string))
		}
		for i := 1; i < len(order); i++ {
			if order[i] < order[i-1] {
				t.Errorf("listeners not ordered by protocol: %v", order)
			}
		}
		return got
	}
	var got map[key]map[string]any
	poll(t, "every listener listed", func() bool {
		got = listed()
		for _, k := range want {
			if got[k] == nil {
				return false
			}
		}
		return len(got) == len(want)
	})
	for k, m := range got {
		if m["ip_address"] != "127.0.0.1" || m["node"] != "warren@localhost" {
			t.Errorf("%v: %v", k, m)
		}
		if _, ok := m["socket_opts"].(map[string]any); !ok {
			t.Errorf("%v: socket_opts %v", k, m["socket_opts"])
		}
	}
	if ctxs := object(t, tg, "/api/overview")["contexts"].([]any); len(ctxs) != 2 {
		t.Errorf("contexts %v, want the API's and Prometheus'", ctxs)
	}

	// A connection accepted on the AMQPS listener is "ssl": true; a plain
	// one false, with RabbitMQ's null TLS details.
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	tc, err := amqp.DialTLS("amqps://guest:guest@localhost:"+strconv.Itoa(int(portOf(amqps.Addr())))+"/", &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	pc, err := amqp.Dial("amqp://guest:guest@" + amqpAddr.String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	poll(t, "both connections listed with their ssl flag", func() bool {
		seen := map[float64]map[string]any{}
		for _, e := range decodeJSON(t, "connections", tg.guest(t, "GET", "/api/connections", "").body).([]any) {
			m := e.(map[string]any)
			seen[m["port"].(float64)] = m
		}
		s, p := seen[portOf(amqps.Addr())], seen[portOf(amqpAddr)]
		if s == nil || p == nil {
			return false
		}
		if s["ssl"] != true || p["ssl"] != false {
			t.Fatalf("ssl flags: amqps %v, plain %v", s["ssl"], p["ssl"])
		}
		if v, ok := p["ssl_protocol"]; !ok || v != nil {
			t.Errorf("plain connection's ssl_protocol %v (present %v), want null", v, ok)
		}
		return true
	})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = prom.Shutdown(ctx)
	_ = streamLn.Close()
	poll(t, "closed listeners gone", func() bool {
		got = listed()
		return got[key{"http/prometheus", portOf(prom.Addr())}] == nil && got[key{"stream", portOf(streamLn.Addr())}] == nil
	})
}
