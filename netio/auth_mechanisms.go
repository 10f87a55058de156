package netio

import "strings"

// DefaultAuthMechanisms is RabbitMQ's default auth_mechanisms.
var DefaultAuthMechanisms = []string{"PLAIN", "AMQPLAIN"}

// mechanisms is the configured list, in its order: Config.AuthMechanisms,
// or the default with EXTERNAL when certificate login is on.
func (s *Server) mechanisms() []string {
	if s.cfg.AuthMechanisms != nil {
		return s.cfg.AuthMechanisms
	}
	if s.cfg.CertLogin != nil {
		return append(DefaultAuthMechanisms[:len(DefaultAuthMechanisms):len(DefaultAuthMechanisms)], "EXTERNAL")
	}
	return DefaultAuthMechanisms
}

// mechanismOffered is whether connection.start offers m on c: m is
// configured and can work here (EXTERNAL only on a TLS connection with a
// verified client certificate), as RabbitMQ's reader filters
// auth_mechanisms with each mechanism's should_offer. A start-ok naming
// any other is refused as an unknown mechanism, as RabbitMQ does.
func (c *Conn) mechanismOffered(m string) bool {
	for _, name := range c.srv.mechanisms() {
		if name == m {
			return m != "EXTERNAL" || c.externalOffered()
		}
	}
	return false
}

// offeredMechanisms is connection.start's list, space-separated. It may
// be empty: auth_mechanisms.1 = EXTERNAL leaves a plain TCP connection
// nothing to log in with, as in RabbitMQ.
func (c *Conn) offeredMechanisms() string {
	var b strings.Builder
	for _, m := range c.srv.mechanisms() {
		if c.mechanismOffered(m) {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(m)
		}
	}
	return b.String()
}
