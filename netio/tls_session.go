package netio

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"

	"github.com/warrenmq/warren/broker"
)

// tlsSession is what management lists of an AMQPS connection's session,
// or nil when c is not TLS.
func (c *Conn) tlsSession() *broker.TLSInfo {
	nt, ok := c.t.(*netTransport)
	if !ok {
		return nil
	}
	tc, ok := nt.nc.(*tls.Conn)
	if !ok {
		return nil
	}
	st := tc.ConnectionState()
	return tlsInfo(st)
}

func tlsInfo(st tls.ConnectionState) *broker.TLSInfo {
	info := &broker.TLSInfo{Protocol: tlsProtocolName(st.Version)}
	info.KeyExchange, info.Cipher, info.Hash = cipherSuiteParts(st.Version, st.CipherSuite)
	if len(st.PeerCertificates) > 0 {
		cert := st.PeerCertificates[0]
		info.PeerCertSubject = distinguishedName(cert.RawSubject, cert.Subject)
		info.PeerCertIssuer = distinguishedName(cert.RawIssuer, cert.Issuer)
		info.PeerCertValidity = certValidity(cert)
	}
	return info
}

// tlsProtocolName is Erlang's name of the version, as RabbitMQ lists it.
func tlsProtocolName(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "tlsv1.3"
	case tls.VersionTLS12:
		return "tlsv1.2"
	case tls.VersionTLS11:
		return "tlsv1.1"
	case tls.VersionTLS10:
		return "tlsv1"
	}
	return strings.ToLower(tls.VersionName(v))
}

// cipherSuiteParts splits a suite the way Erlang's ssl reports it
// (key_exchange, cipher, mac): TLS 1.3 suites have key exchange "any",
// and AEAD ciphers have mac "aead". Go's IANA names carry the same parts:
// TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 is ecdhe_rsa, aes_128_cbc, sha256.
func cipherSuiteParts(version, id uint16) (kx, cipher, hash string) {
	name := tls.CipherSuiteName(id)
	rest := strings.TrimPrefix(name, "TLS_")
	kx = "any"
	if k, c, ok := strings.Cut(rest, "_WITH_"); ok {
		kx, rest = strings.ToLower(k), c
	} else if version != tls.VersionTLS13 {
		kx = ""
	}
	if i := strings.LastIndex(rest, "_SHA"); i > 0 {
		cipher, hash = rest[:i], rest[i+1:]
	} else {
		cipher = rest
	}
	cipher, hash = strings.ToLower(cipher), strings.ToLower(hash)
	if strings.Contains(cipher, "gcm") || strings.Contains(cipher, "poly1305") || strings.Contains(cipher, "ccm") {
		hash = "aead"
	}
	return kx, cipher, hash
}

// distinguishedName is RFC 4514 over the certificate's own attribute
// order (last RDN first), as rabbit_ssl prints it: "O=client,CN=guest"
// for a subject written /CN=guest/O=client. pkix.Name.String reorders
// attributes into its own canonical order, so it is used only when the raw
// sequence does not parse.
func distinguishedName(raw []byte, parsed pkix.Name) string {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &seq); err != nil || len(rest) > 0 {
		return parsed.String()
	}
	return seq.String()
}

// certValidity is RabbitMQ's peer_cert_validity: "start - end" in UTC.
func certValidity(cert *x509.Certificate) string {
	const layout = "2006-01-02T15:04:05Z"
	return cert.NotBefore.UTC().Format(layout) + " - " + cert.NotAfter.UTC().Format(layout)
}
