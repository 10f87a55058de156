// Package fast is a minimal AMQP 0-9-1 client for load generation: raw-frame
// handshake and declares, batched pre-encoded publishes, and an in-place
// delivery parser over a large read buffer with no per-message allocation.
package fast

import (
	"fmt"
	"net"
	"net/url"
)

// URI is the part of an amqp:// URI the fast client uses.
type URI struct {
	Addr  string // host:port
	User  string
	Pass  string
	Vhost string
}

// ParseURI parses amqp://user:pass@host:port/vhost (vhost "" or "/" is "/").
func ParseURI(s string) (URI, error) {
	u, err := url.Parse(s)
	if err != nil {
		return URI{}, err
	}
	if u.Scheme != "amqp" {
		return URI{}, fmt.Errorf("fast: scheme %q not supported (amqp only)", u.Scheme)
	}
	out := URI{User: "guest", Pass: "guest", Vhost: "/"}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "5672"
	}
	out.Addr = net.JoinHostPort(host, port)
	if u.User != nil {
		out.User = u.User.Username()
		if p, ok := u.User.Password(); ok {
			out.Pass = p
		}
	}
	if v := u.Path; len(v) > 1 {
		out.Vhost, err = url.PathUnescape(v[1:])
		if err != nil {
			return URI{}, err
		}
	}
	return out, nil
}
