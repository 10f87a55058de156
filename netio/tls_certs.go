package netio

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// TLSCerts is a TLS listener's configuration, rebuilt from its files by
// Reload. Listeners hold the configuration Config returns, which picks
// the current one for each new handshake (GetConfigForClient): a reload
// changes what new connections see and leaves established ones alone.
type TLSCerts struct {
	opts TLSOptions
	mu   sync.Mutex // serialises Reload
	cur  atomic.Pointer[tls.Config]
	seen []fileStamp // the files as last loaded
}

type fileStamp struct {
	path  string
	mod   time.Time
	size  int64
	found bool
}

// LoadTLS checks o and reads its files; any problem is an error that
// names the setting or file at fault.
func LoadTLS(o TLSOptions) (*TLSCerts, error) {
	if o.CertFile == "" || o.KeyFile == "" {
		return nil, errors.New("TLS needs both a certificate file and a key file")
	}
	c := &TLSCerts{opts: o}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Options returns the settings c was loaded with.
func (c *TLSCerts) Options() TLSOptions { return c.opts }

// Config is the configuration to give a listener (crypto/tls or
// net/http): every handshake takes the latest loaded one.
func (c *TLSCerts) Config() *tls.Config {
	return &tls.Config{
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return c.cur.Load(), nil },
	}
}

// Reload reads the files again. On error the configuration in use stays.
func (c *TLSCerts) Reload() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	stamps := c.stamps()
	cfg, err := c.opts.build()
	if err != nil {
		return err
	}
	c.cur.Store(cfg)
	c.seen = stamps
	return nil
}

// Watch reloads whenever one of the files changes (size or modification
// time, checked every interval) until ctx is done. A reload that fails is
// logged and retried at the next change.
func (c *TLSCerts) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		changed := !sameStamps(c.seen, c.stamps())
		c.mu.Unlock()
		if !changed {
			continue
		}
		if err := c.Reload(); err != nil {
			slog.Error("TLS files changed but cannot be loaded; keeping the previous certificate", "err", err)
			c.mu.Lock()
			c.seen = c.stamps() // not again until they change once more
			c.mu.Unlock()
			continue
		}
		slog.Info("TLS certificate reloaded", "certfile", c.opts.CertFile)
	}
}

func (c *TLSCerts) stamps() []fileStamp {
	var out []fileStamp
	for _, p := range []string{c.opts.CertFile, c.opts.KeyFile, c.opts.CACertFile} {
		if p == "" {
			continue
		}
		s := fileStamp{path: p}
		if fi, err := os.Stat(p); err == nil {
			s.mod, s.size, s.found = fi.ModTime(), fi.Size(), true
		}
		out = append(out, s)
	}
	return out
}

func sameStamps(a, b []fileStamp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].path != b[i].path || !a[i].mod.Equal(b[i].mod) || a[i].size != b[i].size || a[i].found != b[i].found {
			return false
		}
	}
	return true
}

// build reads the files and makes the crypto/tls configuration.
func (o *TLSOptions) build() (*tls.Config, error) {
	auth, err := o.clientAuth()
	if err != nil {
		return nil, err
	}
	minV, maxV, err := versionRange(o.Versions)
	if err != nil {
		return nil, err
	}
	suites, err := cipherSuites(o.Ciphers)
	if err != nil {
		return nil, err
	}
	pair, err := loadKeyPair(o.CertFile, o.KeyFile, o.Password)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{pair},
		ClientAuth:   auth,
		MinVersion:   minV,
		MaxVersion:   maxV,
		CipherSuites: suites,
	}
	if o.CACertFile != "" {
		pem, err := os.ReadFile(o.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("cacertfile: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("cacertfile %s holds no PEM certificate", o.CACertFile)
		}
		cfg.ClientCAs = pool
	}
	depth := DefaultTLSDepth
	if o.Depth != nil {
		depth = *o.Depth
	}
	if depth < 0 {
		return nil, fmt.Errorf("ssl_options.depth: %d is negative", depth)
	}
	cfg.VerifyPeerCertificate = func(_ [][]byte, chains [][]*x509.Certificate) error {
		return checkDepth(chains, depth)
	}
	return cfg, nil
}

// checkDepth accepts a verified client certificate if one of its chains
// has at most depth intermediates (the chain holds the leaf and the CA too).
func checkDepth(chains [][]*x509.Certificate, depth int) error {
	if len(chains) == 0 {
		return nil // no certificate, or none asked for
	}
	for _, ch := range chains {
		if len(ch)-2 <= depth {
			return nil
		}
	}
	return fmt.Errorf("client certificate chain is longer than ssl_options.depth = %d", depth)
}
