package mgmt

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net"
	"strconv"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/netio"
	"github.com/warrenmq/warren/netio/testpki"
)

// An AMQPS connection lists its TLS session as RabbitMQ 3.10.8 does. Seen
// there (rabbit_networking:start_ssl_listener with verify_peer, pika
// clients): a TLS 1.3 client with a certificate written /CN=guest/O=client
// is ssl_protocol "tlsv1.3", ssl_key_exchange "any", ssl_cipher
// "aes_256_gcm", ssl_hash "aead", peer_cert_subject "O=client,CN=guest",
// peer_cert_issuer the CA's, peer_cert_validity "2026-12-02T18:30:22Z -
// 2027-01-01T18:30:22Z"; a TLS 1.2 client without one over an ECDSA server
// key is "tlsv1.2", "ecdhe_ecdsa", "aes_256_gcm", "aead" and null
// peer_cert_* items.
func TestConnectionTLSSession(t *testing.T) {
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
	ca := testpki.NewCA(t, t.TempDir(), "ca")
	pair := ca.Server(t, "localhost")
	certs, err := netio.LoadTLS(netio.TLSOptions{CACertFile: ca.CertFile, CertFile: pair.CertFile, KeyFile: pair.KeyFile, Verify: "verify_peer"})
	if err != nil {
		t.Fatal(err)
	}
	amqps, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.ServeTLS(amqps, certs) }()
	s, err := ListenConfig(Config{Addr: "127.0.0.1:0", AMQP: amqpAddr}, b)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve() }()
	defer s.Shutdown(context.Background())
	tg := &target{base: "http://" + s.Addr().String(), b: b, id: newID()}

	client := ca.ClientSubject(t, "client",
		pkix.AttributeTypeAndValue{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "guest"},
		pkix.AttributeTypeAndValue{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: "client"})
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	url := "amqps://guest:guest@localhost:" + strconv.Itoa(amqps.Addr().(*net.TCPAddr).Port) + "/"
	withCert, err := amqp.DialTLS(url, &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS13,
		Certificates: []tls.Certificate{{Certificate: [][]byte{client.Cert.Raw}, PrivateKey: client.Key}}})
	if err != nil {
		t.Fatal(err)
	}
	defer withCert.Close()
	tls12, err := amqp.DialTLS(url, &tls.Config{RootCAs: pool, ServerName: "localhost", MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}})
	if err != nil {
		t.Fatal(err)
	}
	defer tls12.Close()
	plain, err := amqp.Dial("amqp://guest:guest@" + amqpAddr.String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()

	tlsFields := []string{"ssl_protocol", "ssl_key_exchange", "ssl_cipher", "ssl_hash", "peer_cert_subject", "peer_cert_issuer", "peer_cert_validity"}
	var rows []map[string]any
	poll(t, "three connections listed", func() bool {
		rows = nil
		for _, e := range decodeJSON(t, "connections", tg.guest(t, "GET", "/api/connections", "").body).([]any) {
			rows = append(rows, e.(map[string]any))
		}
		return len(rows) == 3
	})
	const layout = "2006-01-02T15:04:05Z"
	validity := client.Cert.NotBefore.UTC().Format(layout) + " - " + client.Cert.NotAfter.UTC().Format(layout)
	seen := 0
	for _, r := range rows {
		got := map[string]any{"ssl": r["ssl"]}
		for _, k := range tlsFields {
			v, ok := r[k]
			if !ok {
				t.Errorf("%s: %s missing", r["name"], k)
			}
			got[k] = v
		}
		var want map[string]any
		switch {
		case r["ssl"] == false:
			want = map[string]any{"ssl": false}
		case r["ssl_protocol"] == "tlsv1.3":
			// Go picks among the three TLS 1.3 AEADs itself.
			if c := r["ssl_cipher"]; c != "aes_128_gcm" && c != "aes_256_gcm" && c != "chacha20_poly1305" {
				t.Errorf("TLS 1.3 cipher %v", c)
			}
			want = map[string]any{"ssl": true, "ssl_protocol": "tlsv1.3", "ssl_key_exchange": "any", "ssl_cipher": r["ssl_cipher"], "ssl_hash": "aead",
				"peer_cert_subject": "O=client,CN=guest", "peer_cert_issuer": "CN=ca,O=Warren tests", "peer_cert_validity": validity}
		default:
			want = map[string]any{"ssl": true, "ssl_protocol": "tlsv1.2", "ssl_key_exchange": "ecdhe_ecdsa", "ssl_cipher": "aes_256_gcm", "ssl_hash": "aead"}
		}
		for _, k := range append([]string{"ssl"}, tlsFields...) {
			if got[k] != want[k] {
				t.Errorf("%s: %s = %v, want %v", r["name"], k, got[k], want[k])
			}
		}
		seen++
	}
	if seen != 3 {
		t.Errorf("checked %d connections", seen)
	}
}
