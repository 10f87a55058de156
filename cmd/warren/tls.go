package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/cmd/warren/config"
	"github.com/warrenmq/warren/mgmt"
	"github.com/warrenmq/warren/netio"
)

// tlsFlags are the command line's TLS settings: RabbitMQ's
// listeners.ssl.default, ssl_options.*, ssl_cert_login_from and
// management.ssl.port.
type tlsFlags struct {
	port, httpsPort   *int
	cert, key, ca     *string
	keyPasswordFile   *string
	verify            *string
	failIfNoPeerCert  *bool
	depth             *int
	versions, ciphers *string
	external          *bool
	loginFrom         *string
	sanType           *string
	sanIndex          *int
	watch             *time.Duration
}

func registerTLSFlags(fs *flag.FlagSet) *tlsFlags {
	return &tlsFlags{
		port:             fs.Int("amqps-port", netio.DefaultAMQPSPort, "AMQPS (AMQP over TLS) port, served when -tls-cert is set"),
		httpsPort:        fs.Int("https-port", 0, "management HTTPS port with -tls-cert/-tls-key (0 disables; RabbitMQ uses 15671)"),
		cert:             fs.String("tls-cert", "", "server certificate (chain), PEM; enables AMQPS (ssl_options.certfile)"),
		key:              fs.String("tls-key", "", "server private key, PEM: plain or encrypted PKCS#8 (ssl_options.keyfile)"),
		keyPasswordFile:  fs.String("tls-key-password-file", "", "file holding the password of an encrypted -tls-key (ssl_options.password)"),
		ca:               fs.String("tls-ca", "", "CA certificates client certificates must chain to, PEM (ssl_options.cacertfile)"),
		verify:           fs.String("tls-verify", "verify_none", "verify_none or verify_peer (ssl_options.verify)"),
		failIfNoPeerCert: fs.Bool("tls-fail-if-no-peer-cert", false, "with verify_peer, refuse clients without a certificate (ssl_options.fail_if_no_peer_cert)"),
		depth:            fs.Int("tls-depth", netio.DefaultTLSDepth, "intermediate certificates allowed in a client's chain (ssl_options.depth)"),
		versions:         fs.String("tls-versions", "", "comma-separated TLS versions, e.g. tlsv1.2,tlsv1.3 (ssl_options.versions; default both)"),
		ciphers:          fs.String("tls-ciphers", "", "comma-separated TLS 1.2 cipher suites, OpenSSL or IANA names (ssl_options.ciphers; default Go's)"),
		external:         fs.Bool("auth-external", false, "offer EXTERNAL login (the client certificate names the user) on verified TLS connections"),
		loginFrom:        fs.String("cert-login-from", "common_name", "common_name, distinguished_name or subject_alternative_name (ssl_cert_login_from)"),
		sanType:          fs.String("cert-login-san-type", "dns", "dns, ip, email or uri (ssl_cert_login_san_type)"),
		sanIndex:         fs.Int("cert-login-san-index", 0, "which SAN of that type, from 0 (ssl_cert_login_san_index)"),
		watch:            fs.Duration("tls-watch", 5*time.Second, "how often to check the TLS files for changes and reload them (0: only on SIGHUP)"),
	}
}

// tlsSetup is what the TLS settings produced: nil parts are disabled.
type tlsSetup struct {
	amqpsAddr string
	amqpsMore []string // more AMQPS listeners, with the same certificate
	httpsAddr string
	watch     time.Duration
	amqps     *netio.TLSCerts
	https     *netio.TLSCerts
	login     *netio.CertLogin
}

// load checks the file's and the flags' TLS settings and reads the files,
// before anything is opened.
func (f *tlsFlags) load(c *config.Config, set map[string]bool) (*tlsSetup, error) {
	p, err := f.plan(c, set)
	if err != nil {
		return nil, err
	}
	if p.amqps == nil && (set["auth-external"] && p.login != nil || set["https-port"] && p.https != nil && p.https.CertFile == "") {
		return nil, errors.New("-auth-external and -https-port need -tls-cert and -tls-key")
	}
	return loadTLSSetup(p, *f.watch)
}

// override lays the TLS flags named in set over o.
func (f *tlsFlags) override(o *netio.TLSOptions, set map[string]bool) error {
	if set["tls-cert"] {
		o.CertFile = *f.cert
	}
	if set["tls-key"] {
		o.KeyFile = *f.key
	}
	if set["tls-ca"] {
		o.CACertFile = *f.ca
	}
	if set["tls-verify"] {
		o.Verify = *f.verify
	}
	if set["tls-fail-if-no-peer-cert"] {
		o.FailIfNoPeerCert = *f.failIfNoPeerCert
	}
	if set["tls-depth"] {
		o.Depth = f.depth
	}
	if set["tls-versions"] {
		o.Versions = splitList(*f.versions)
	}
	if set["tls-ciphers"] {
		o.Ciphers = splitList(*f.ciphers)
	}
	if *f.keyPasswordFile != "" {
		pw, err := os.ReadFile(*f.keyPasswordFile)
		if err != nil {
			return fmt.Errorf("-tls-key-password-file: %w", err)
		}
		o.Password = strings.TrimRight(string(pw), "\r\n")
	}
	return nil
}

// loadTLSSetup checks the settings and reads the files: AMQPS when
// p.amqps is set, management HTTPS when p.https is, the files watched
// every watch unless 0. run makes its errors exit 2.
func loadTLSSetup(p *tlsPlan, watch time.Duration) (*tlsSetup, error) {
	s := &tlsSetup{login: p.login, amqpsAddr: p.amqpsAddr, amqpsMore: p.amqpsMore, httpsAddr: p.httpsAddr, watch: watch}
	if p.login != nil {
		if err := p.login.Validate(); err != nil {
			return nil, err
		}
	}
	var err error
	if p.amqps != nil {
		if s.amqps, err = netio.LoadTLS(*p.amqps); err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
	}
	if p.https != nil {
		if s.https, err = netio.LoadTLS(*p.https); err != nil {
			return nil, fmt.Errorf("tls (https): %w", err)
		}
	}
	return s, nil
}

// serve starts the AMQPS and HTTPS listeners and the file watch; ctx ends
// the watch.
func (s *tlsSetup) serve(ctx context.Context, srv *netio.Server, b *broker.Broker) (*mgmt.Server, error) {
	if s.amqps != nil {
		for _, addr := range append([]string{s.amqpsAddr}, s.amqpsMore...) {
			ln, err := netio.ListenTLS(addr)
			if err != nil {
				return nil, err
			}
			go func() { _ = srv.ServeTLS(ln, s.amqps) }()
			slog.Info("amqps listening", "amqps", ln.Addr().String(), "verify", s.amqps.Options().Verify, "external", s.login != nil)
		}
	}
	var hs *mgmt.Server
	if s.https != nil {
		var err error
		hs, err = mgmt.Listen(s.httpsAddr, b)
		if err != nil {
			return nil, fmt.Errorf("https listener: %w", err)
		}
		go func() { _ = hs.ServeTLS(s.https.Config()) }()
		slog.Info("management listening", "https", hs.Addr().String())
	}
	if s.watch > 0 {
		for _, c := range []*netio.TLSCerts{s.amqps, s.https} {
			if c != nil {
				go c.Watch(ctx, s.watch)
			}
		}
	}
	return hs, nil
}

// reload reads the certificate files again (SIGHUP); nil when there is no
// TLS, so the SIGHUP handler says there is nothing to reload.
func (s *tlsSetup) reloader() func() {
	if s.amqps == nil && s.https == nil {
		return nil
	}
	return func() {
		for _, c := range []*netio.TLSCerts{s.amqps, s.https} {
			if c == nil {
				continue
			}
			if err := c.Reload(); err != nil {
				slog.Error("SIGHUP: cannot reload the TLS files; keeping the previous certificate", "err", err)
				continue
			}
			slog.Info("SIGHUP: TLS certificate reloaded", "certfile", c.Options().CertFile)
		}
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
