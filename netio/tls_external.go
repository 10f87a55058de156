package netio

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// externalOffered is whether EXTERNAL can work on c (auth_mechanisms.go
// offers it only then): it is enabled and the connection is TLS with a
// client certificate that verified against the CAs, as RabbitMQ's
// rabbitmq_auth_mechanism_ssl.
func (c *Conn) externalOffered() bool {
	return c.srv.cfg.CertLogin != nil && c.peerCertificate() != nil
}

// peerCertificate is the client's verified certificate, or nil.
func (c *Conn) peerCertificate() *x509.Certificate {
	nt, ok := c.t.(*netTransport)
	if !ok {
		return nil
	}
	tc, ok := nt.nc.(*tls.Conn)
	if !ok {
		return nil
	}
	st := tc.ConnectionState()
	if len(st.VerifiedChains) == 0 || len(st.PeerCertificates) == 0 {
		return nil
	}
	return st.PeerCertificates[0]
}

// externalLogin is the EXTERNAL mechanism: the user named by the client
// certificate, who needs no password but must exist. The response is
// ignored, as RabbitMQ does. Refusals are RabbitMQ's: a mechanism not
// offered is unknown (a protocol error, dropped silently); a certificate
// without the name or an unknown user is ACCESS_REFUSED.
func (c *Conn) externalLogin() (*broker.Principal, error) {
	cert := c.peerCertificate()
	if c.srv.cfg.CertLogin == nil || cert == nil {
		return nil, frame.Errorf(frame.CommandInvalid, "unknown authentication mechanism '%s'", "EXTERNAL")
	}
	refused := frame.Errorf(frame.AccessRefused, "Login was refused using authentication mechanism EXTERNAL. For details see the broker logfile.")
	remote := c.t.RemoteAddr()
	name, err := certLoginName(cert, *c.srv.cfg.CertLogin)
	if err != nil {
		slog.Warn("EXTERNAL login refused", "err", err, "subject", cert.Subject.String(), "remote", fmt.Sprint(remote))
		return nil, refused
	}
	p, err := c.b.Users().AuthenticateExternal(name, isLoopback(remote))
	c.b.AuthAttempts().Record(broker.AuthAMQP, remote, name, err == nil)
	switch {
	case errors.Is(err, broker.ErrLoopbackOnly):
		slog.Warn("user '"+name+"' can only connect via localhost", "remote", fmt.Sprint(remote))
		return nil, refused
	case err != nil:
		slog.Warn("EXTERNAL login refused: no such user", "user", name, "remote", fmt.Sprint(remote))
		return nil, refused
	}
	return p, nil
}

var oidCommonName = asn1.ObjectIdentifier{2, 5, 4, 3}

// certLoginName is RabbitMQ's peer_cert_auth_name: several CNs are joined
// with ","; the distinguished name is the RFC 4514 string of the
// certificate's own attribute order, as rabbit_ssl's (tls_session.go).
func certLoginName(cert *x509.Certificate, l CertLogin) (string, error) {
	switch l.From {
	case "", "common_name":
		var cns []string
		for _, atv := range cert.Subject.Names {
			if s, ok := atv.Value.(string); ok && atv.Type.Equal(oidCommonName) {
				cns = append(cns, s)
			}
		}
		if len(cns) == 0 {
			return "", errors.New("no name found (the certificate has no CN)")
		}
		return strings.Join(cns, ","), nil
	case "distinguished_name":
		return distinguishedName(cert.RawSubject, cert.Subject), nil
	}
	var sans []string
	switch l.SANType {
	case "", "dns":
		sans = cert.DNSNames
	case "email":
		sans = cert.EmailAddresses
	case "ip":
		for _, ip := range cert.IPAddresses {
			sans = append(sans, ip.String())
		}
	case "uri":
		for _, u := range cert.URIs {
			sans = append(sans, u.String())
		}
	}
	if l.SANIndex >= len(sans) {
		return "", fmt.Errorf("no name found (no %s SAN at index %d)", l.SANType, l.SANIndex)
	}
	return sans[l.SANIndex], nil
}
