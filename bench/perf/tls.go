package perf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
)

// TLS is the client side of amqps:// URIs (warren-perf -tls-ca); nil
// uses the system's roots.
var TLS *tls.Config

// TrustCA makes amqps:// connections trust the PEM CAs in file.
func TrustCA(file string) error {
	pem, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("%s holds no PEM certificate", file)
	}
	TLS = &tls.Config{RootCAs: pool}
	return nil
}

// checkTLSClient refuses amqps:// with the fast client, which writes
// frames to a plain socket.
func checkTLSClient(c *Config) error {
	if strings.HasPrefix(c.URI, "amqps://") && c.Client != "amqp091" {
		return fmt.Errorf("amqps:// needs -client amqp091 (the fast client speaks plain TCP only)")
	}
	return nil
}
