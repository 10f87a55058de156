package netio

import (
	"crypto/tls"
	"testing"
)

// Suites split into Erlang's (key_exchange, cipher, mac), the names
// RabbitMQ lists for a connection.
func TestCipherSuiteParts(t *testing.T) {
	for _, c := range []struct {
		version, id      uint16
		kx, cipher, hash string
	}{
		{tls.VersionTLS13, tls.TLS_AES_256_GCM_SHA384, "any", "aes_256_gcm", "aead"},
		{tls.VersionTLS13, tls.TLS_CHACHA20_POLY1305_SHA256, "any", "chacha20_poly1305", "aead"},
		{tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ecdhe_ecdsa", "aes_256_gcm", "aead"},
		{tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ecdhe_rsa", "chacha20_poly1305", "aead"},
		{tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, "ecdhe_rsa", "aes_128_cbc", "sha256"},
		{tls.VersionTLS12, tls.TLS_RSA_WITH_AES_128_CBC_SHA, "rsa", "aes_128_cbc", "sha"},
	} {
		kx, cipher, hash := cipherSuiteParts(c.version, c.id)
		if kx != c.kx || cipher != c.cipher || hash != c.hash {
			t.Errorf("%s: %s %s %s, want %s %s %s", tls.CipherSuiteName(c.id), kx, cipher, hash, c.kx, c.cipher, c.hash)
		}
	}
}
