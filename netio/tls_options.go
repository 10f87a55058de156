package netio

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
	"time"
)

// TLSOptions are RabbitMQ's ssl_options.* for one TLS listener, in the
// form rabbitmq.conf and the command line give them. Build turns them
// into a crypto/tls configuration, refusing what Go cannot honour.
type TLSOptions struct {
	CACertFile string // ssl_options.cacertfile: CAs that client certificates must chain to
	CertFile   string // ssl_options.certfile: the server's certificate (chain), PEM
	KeyFile    string // ssl_options.keyfile: its private key, PEM
	// Password decrypts KeyFile when it is an encrypted PKCS#8 key
	// ("ENCRYPTED PRIVATE KEY": PBES2 with PBKDF2 and AES-CBC, what
	// `openssl genpkey -aes256` and `openssl pkcs8 -topk8` write).
	Password string
	// Verify is "verify_none" (the default: no client certificate is asked
	// for) or "verify_peer" (one is asked for and, if sent, must chain to
	// CACertFile).
	Verify string
	// FailIfNoPeerCert refuses, under verify_peer, clients that send no
	// certificate.
	FailIfNoPeerCert bool
	// Depth is how many intermediate certificates may sit between a
	// client's certificate and a trusted CA (Erlang's ssl depth; nil
	// means DefaultTLSDepth).
	Depth *int
	// Versions are the protocol versions allowed ("tlsv1.2", "tlsv1.3");
	// none means both.
	Versions []string
	// Ciphers are the TLS 1.2 suites allowed, by OpenSSL name
	// ("ECDHE-RSA-AES256-GCM-SHA384", as RabbitMQ's docs write them) or by
	// IANA name ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"); none means Go's
	// defaults. TLS 1.3 suites may be named but Go always enables all three.
	Ciphers []string
}

// DefaultTLSHandshakeTimeout is RabbitMQ's ssl_handshake_timeout default.
const DefaultTLSHandshakeTimeout = 5 * time.Second

// DefaultTLSDepth is Erlang ssl's default verification depth.
const DefaultTLSDepth = 10

// CertLogin is how EXTERNAL authentication takes a user name from a
// client certificate: RabbitMQ's ssl_cert_login_from, with
// ssl_cert_login_san_type and ssl_cert_login_san_index for SANs.
type CertLogin struct {
	// From is "common_name" (the default), "distinguished_name" or
	// "subject_alternative_name".
	From string
	// SANType is "dns" (the default), "ip", "email" or "uri".
	SANType string
	// SANIndex picks among the SANs of that type, from 0.
	SANIndex int
}

var tlsVersions = map[string]uint16{
	"tlsv1":   tls.VersionTLS10,
	"tlsv1.1": tls.VersionTLS11,
	"tlsv1.2": tls.VersionTLS12,
	"tlsv1.3": tls.VersionTLS13,
}

// versionRange turns a list of versions into Go's min and max: Go cannot
// allow 1.1 and 1.3 without 1.2, so a list with a hole is refused.
func versionRange(names []string) (uint16, uint16, error) {
	if len(names) == 0 {
		return tls.VersionTLS12, tls.VersionTLS13, nil
	}
	var vs []uint16
	for _, n := range names {
		v, ok := tlsVersions[strings.ToLower(strings.TrimSpace(n))]
		if !ok {
			return 0, 0, fmt.Errorf("ssl_options.versions: unknown version %q (known: tlsv1, tlsv1.1, tlsv1.2, tlsv1.3)", n)
		}
		vs = append(vs, v)
	}
	slices.Sort(vs)
	vs = slices.Compact(vs)
	for i := 1; i < len(vs); i++ {
		if vs[i] != vs[i-1]+1 {
			return 0, 0, fmt.Errorf("ssl_options.versions: %v leaves a gap; Go allows only a contiguous range", names)
		}
	}
	return vs[0], vs[len(vs)-1], nil
}

// cipherSuites maps names to Go's suite ids. TLS 1.3 names are accepted
// and dropped (Go does not let them be configured).
func cipherSuites(names []string) ([]uint16, error) {
	if len(names) == 0 {
		return nil, nil
	}
	byName := make(map[string]uint16)
	tls13 := make(map[string]bool)
	for _, s := range slices.Concat(tls.CipherSuites(), tls.InsecureCipherSuites()) {
		if slices.Contains(s.SupportedVersions, tls.VersionTLS13) {
			tls13[s.Name] = true
			continue
		}
		byName[s.Name] = s.ID
	}
	var ids []uint16
	for _, n := range names {
		n = strings.TrimSpace(n)
		if tls13[n] {
			continue
		}
		id, ok := byName[n]
		if !ok {
			id, ok = byName[openSSLCiphers[n]]
		}
		if !ok {
			return nil, fmt.Errorf("ssl_options.ciphers: %q is not a cipher suite Go supports (use OpenSSL or IANA names of TLS 1.2 ECDHE/RSA AES-GCM, AES-CBC or ChaCha20 suites)", n)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// openSSLCiphers are the OpenSSL names of the TLS 1.2 suites Go has.
var openSSLCiphers = map[string]string{
	"ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-RSA-AES256-GCM-SHA384":   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-RSA-AES128-GCM-SHA256":   "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-RSA-CHACHA20-POLY1305":   "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-ECDSA-AES128-SHA256":     "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
	"ECDHE-RSA-AES128-SHA256":       "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
	"ECDHE-ECDSA-AES256-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
	"ECDHE-RSA-AES256-SHA":          "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
	"ECDHE-ECDSA-AES128-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
	"ECDHE-RSA-AES128-SHA":          "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
	"AES256-GCM-SHA384":             "TLS_RSA_WITH_AES_256_GCM_SHA384",
	"AES128-GCM-SHA256":             "TLS_RSA_WITH_AES_128_GCM_SHA256",
	"AES128-SHA256":                 "TLS_RSA_WITH_AES_128_CBC_SHA256",
	"AES256-SHA":                    "TLS_RSA_WITH_AES_256_CBC_SHA",
	"AES128-SHA":                    "TLS_RSA_WITH_AES_128_CBC_SHA",
}

// clientAuth maps verify and fail_if_no_peer_cert to Go's policy.
func (o *TLSOptions) clientAuth() (tls.ClientAuthType, error) {
	switch o.Verify {
	case "", "verify_none":
		return tls.NoClientCert, nil
	case "verify_peer":
		if o.CACertFile == "" {
			return 0, fmt.Errorf("ssl_options.verify = verify_peer needs ssl_options.cacertfile")
		}
		if o.FailIfNoPeerCert {
			return tls.RequireAndVerifyClientCert, nil
		}
		return tls.VerifyClientCertIfGiven, nil
	}
	return 0, fmt.Errorf("ssl_options.verify: %q is neither verify_none nor verify_peer", o.Verify)
}

// Validate checks the settings, naming the one at fault.
func (l *CertLogin) Validate() error {
	switch l.From {
	case "", "common_name", "distinguished_name":
	case "subject_alternative_name", "subject_alt_name":
		switch l.SANType {
		case "", "dns", "ip", "email", "uri":
		default:
			return fmt.Errorf("ssl_cert_login_san_type: %q is not dns, ip, email or uri", l.SANType)
		}
		if l.SANIndex < 0 {
			return fmt.Errorf("ssl_cert_login_san_index: %d is negative", l.SANIndex)
		}
	default:
		return fmt.Errorf("ssl_cert_login_from: %q is not common_name, distinguished_name or subject_alternative_name", l.From)
	}
	return nil
}
