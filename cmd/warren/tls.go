package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/warrenmq/warren/broker"
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

// tlsSetup is what the TLS flags produced: nil parts are disabled.
type tlsSetup struct {
	amqpsPort int
	httpsPort int
	watch     time.Duration
	amqps     *netio.TLSCerts
	https     *netio.TLSCerts
	login     *netio.CertLogin
}

// load checks the flags and reads the files, before anything is opened.
func (f *tlsFlags) load() (*tlsSetup, error) {
	o, login, err := f.options()
	if err != nil {
		return nil, err
	}
	return loadTLSSetup(o, login, *f.port, *f.httpsPort, *f.watch)
}

// options are the flags as netio's settings: nil options without
// -tls-cert and -tls-key, nil login without -auth-external. rabbitmq.conf's
// listeners.ssl.*, ssl_options.* and ssl_cert_login_* fill the same
// structs.
func (f *tlsFlags) options() (*netio.TLSOptions, *netio.CertLogin, error) {
	var login *netio.CertLogin
	if *f.external {
		login = &netio.CertLogin{From: *f.loginFrom, SANType: *f.sanType, SANIndex: *f.sanIndex}
	}
	if *f.cert == "" && *f.key == "" {
		return nil, login, nil
	}
	o := &netio.TLSOptions{
		CertFile: *f.cert, KeyFile: *f.key, CACertFile: *f.ca,
		Verify: *f.verify, FailIfNoPeerCert: *f.failIfNoPeerCert, Depth: f.depth,
		Versions: splitList(*f.versions), Ciphers: splitList(*f.ciphers),
	}
	if *f.keyPasswordFile != "" {
		pw, err := os.ReadFile(*f.keyPasswordFile)
		if err != nil {
			return nil, nil, fmt.Errorf("-tls-key-password-file: %w", err)
		}
		o.Password = strings.TrimRight(string(pw), "\r\n")
	}
	return o, login, nil
}

// loadTLSSetup checks the settings and reads the files: AMQPS on
// amqpsPort when o is set, management HTTPS on httpsPort unless 0, the
// files watched every watch unless 0. run makes its errors exit 2.
func loadTLSSetup(o *netio.TLSOptions, login *netio.CertLogin, amqpsPort, httpsPort int, watch time.Duration) (*tlsSetup, error) {
	s := &tlsSetup{login: login, amqpsPort: amqpsPort, httpsPort: httpsPort, watch: watch}
	if login != nil {
		if err := login.Validate(); err != nil {
			return nil, err
		}
	}
	if o == nil {
		if login != nil || httpsPort != 0 {
			return nil, errors.New("-auth-external and -https-port need -tls-cert and -tls-key")
		}
		return s, nil
	}
	var err error
	if s.amqps, err = netio.LoadTLS(*o); err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	if httpsPort != 0 {
		// The management port asks for no client certificate, as
		// RabbitMQ's management.ssl.* defaults.
		web := netio.TLSOptions{CertFile: o.CertFile, KeyFile: o.KeyFile, Password: o.Password, Versions: o.Versions, Ciphers: o.Ciphers}
		if s.https, err = netio.LoadTLS(web); err != nil {
			return nil, fmt.Errorf("tls (https): %w", err)
		}
	}
	return s, nil
}

// serve starts the AMQPS and HTTPS listeners and the file watch; ctx ends
// the watch.
func (s *tlsSetup) serve(ctx context.Context, srv *netio.Server, b *broker.Broker, bind string) (*mgmt.Server, error) {
	if s.amqps != nil {
		ln, err := netio.ListenTLS(net.JoinHostPort(bind, strconv.Itoa(s.amqpsPort)))
		if err != nil {
			return nil, err
		}
		go func() { _ = srv.ServeTLS(ln, s.amqps) }()
		slog.Info("amqps listening", "amqps", ln.Addr().String(), "verify", s.amqps.Options().Verify, "external", s.login != nil)
	}
	var hs *mgmt.Server
	if s.https != nil {
		var err error
		hs, err = mgmt.Listen(net.JoinHostPort(bind, strconv.Itoa(s.httpsPort)), b)
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
