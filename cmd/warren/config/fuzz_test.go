package config

import (
	"errors"
	"strings"
	"testing"
)

// Whatever the file holds, Read returns a config or an *Error with a
// one-line text; it never panics.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"listeners.tcp.default = 5672\n", "heartbeat = 30 # c\n", "default_pass = 'a#b'\n",
		"disk_free_limit.absolute = 2GB\n", "ssl_options.versions.1 = tlsv1.2\n", "x\n", "a.=b\n", "= 1\n",
		"listeners.tcp.v6 = ::1:5672\n", "loopback_users = none\nlisteners.tcp = none\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		l, err := Read("fuzz.conf", strings.NewReader(text))
		var ce *Error
		switch {
		case err == nil && (l == nil || len(l.AMQP) == 0):
			t.Fatalf("accepted %q without an AMQP listener", text)
		case err != nil && !errors.As(err, &ce):
			t.Fatalf("error %v is not an *Error", err)
		case err != nil && strings.Contains(err.Error(), "\n"):
			t.Fatalf("error text spans lines: %q", err.Error())
		}
	})
}
