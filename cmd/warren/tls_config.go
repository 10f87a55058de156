package main

import (
	"flag"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/warrenmq/warren/cmd/warren/config"
	"github.com/warrenmq/warren/netio"
)

// tlsOptionsFrom turns validated ssl_options.* or management.ssl.* (by
// suffix) into netio's options; versions.N and ciphers.N keep N's order.
func tlsOptionsFrom(m map[string]string) *netio.TLSOptions {
	o := &netio.TLSOptions{
		CACertFile: m["cacertfile"], CertFile: m["certfile"], KeyFile: m["keyfile"],
		Password: m["password"], Verify: m["verify"], FailIfNoPeerCert: m["fail_if_no_peer_cert"] == "true",
		Versions: listOption(m, "versions"), Ciphers: listOption(m, "ciphers"),
	}
	if d, err := strconv.Atoi(m["depth"]); err == nil {
		o.Depth = &d
	}
	return o
}

// listOption collects name.N in numeric order of N (non-numbers last).
func listOption(m map[string]string, name string) []string {
	type item struct {
		n   int
		key string
	}
	var items []item
	for k := range m {
		if suffix, ok := strings.CutPrefix(k, name+"."); ok {
			n, err := strconv.Atoi(suffix)
			if err != nil {
				n = int(^uint(0) >> 1)
			}
			items = append(items, item{n, k})
		}
	}
	sort.Slice(items, func(i, j int) bool {
		if items[i].n != items[j].n {
			return items[i].n < items[j].n
		}
		return items[i].key < items[j].key
	})
	var out []string
	for _, it := range items {
		out = append(out, m[it.key])
	}
	return out
}

// tlsPlan is what the config file and the flags ask for, before any file
// is read: nil options and "" addresses are off.
type tlsPlan struct {
	amqps, https         *netio.TLSOptions
	amqpsAddr, httpsAddr string
	amqpsMore            []string // listeners.ssl.* after the first
	login                *netio.CertLogin
}

// plan lays the TLS flags over the file's listeners.ssl.*, ssl_options.*,
// management.ssl.*, auth_mechanisms.* and ssl_cert_login_*: a flag given
// on the command line (or as WARREN_*) beats the file, field by field.
// c already has -bind applied to its AMQP and management hosts.
func (f *tlsFlags) plan(c *config.Config, set map[string]bool) (*tlsPlan, error) {
	p := &tlsPlan{}
	if len(c.TLS) > 0 {
		p.amqps = tlsOptionsFrom(c.SSLOptions)
		p.amqpsAddr = c.TLS[0].Addr()
		for _, l := range c.TLS[1:] {
			p.amqpsMore = append(p.amqpsMore, l.Addr())
		}
	}
	flagTLS := set["tls-cert"] || set["tls-key"]
	if p.amqps == nil && flagTLS && (*f.cert != "" || *f.key != "") {
		p.amqps = &netio.TLSOptions{}
		for _, name := range []string{"tls-cert", "tls-key", "tls-ca", "tls-verify", "tls-fail-if-no-peer-cert", "tls-depth", "tls-versions", "tls-ciphers"} {
			set[name] = true // without a file every TLS flag, default or not, describes the listener
		}
		p.amqpsAddr = net.JoinHostPort(c.AMQP[0].Host, strconv.Itoa(*f.port))
	}
	if p.amqps != nil {
		if err := f.override(p.amqps, set); err != nil {
			return nil, err
		}
		if set["amqps-port"] || set["bind"] {
			host, port, _ := net.SplitHostPort(p.amqpsAddr)
			if set["amqps-port"] {
				port = strconv.Itoa(*f.port)
			}
			if set["bind"] {
				host = c.AMQP[0].Host
			}
			p.amqpsAddr = net.JoinHostPort(host, port)
		}
	}

	httpsPort, httpsHost := 0, c.Management.Host
	if v, ok := c.ManagementTLS["port"]; ok {
		httpsPort, _ = strconv.Atoi(v)
		if ip, ok := c.ManagementTLS["ip"]; ok && !set["bind"] {
			httpsHost = ip
		}
	}
	if set["https-port"] {
		httpsPort = *f.httpsPort
	}
	if httpsPort != 0 {
		p.httpsAddr = net.JoinHostPort(httpsHost, strconv.Itoa(httpsPort))
		p.https = tlsOptionsFrom(c.ManagementTLS)
		if p.https.CertFile == "" && p.https.KeyFile == "" && p.amqps != nil {
			// As with -https-port: the AMQPS certificate, asking clients
			// for none, as RabbitMQ's management.ssl.* defaults.
			a := p.amqps
			p.https = &netio.TLSOptions{CertFile: a.CertFile, KeyFile: a.KeyFile, Password: a.Password, Versions: a.Versions, Ciphers: a.Ciphers}
		}
	}

	external := c.HasMechanism("EXTERNAL")
	cl := c.CertLogin
	if set["auth-external"] {
		external = *f.external
		if !c.HasMechanism("EXTERNAL") {
			// EXTERNAL from the flags alone: the flags' defaults too.
			cl = config.CertLogin{From: *f.loginFrom, SANType: *f.sanType, SANIndex: *f.sanIndex}
		}
	}
	if external {
		p.login = &netio.CertLogin{From: cl.From, SANType: cl.SANType, SANIndex: cl.SANIndex}
		if set["cert-login-from"] {
			p.login.From = *f.loginFrom
		}
		if set["cert-login-san-type"] {
			p.login.SANType = *f.sanType
		}
		if set["cert-login-san-index"] {
			p.login.SANIndex = *f.sanIndex
		}
	}
	return p, nil
}

// visited is the names of the flags set on the command line or as WARREN_*.
func visited(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	return set
}
