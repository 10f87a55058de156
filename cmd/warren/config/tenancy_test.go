package config

import (
	"strings"
	"testing"
)

// default_limits.vhosts.<id>.* as RabbitMQ's vhosts guide writes them,
// kept in id order (numeric, not lexical) and in effect.
func TestDefaultLimitsKeys(t *testing.T) {
	l := read(t, `
default_limits.vhosts.10.pattern = .*
default_limits.vhosts.10.max_connections = 20
default_limits.vhosts.2.pattern = ^telemetry
default_limits.vhosts.2.max_connections = 10000
default_limits.vhosts.2.max_queues = -1
default_limits.vhosts.1.pattern = ^pipelines
default_limits.vhosts.1.max_queues = 1000
`)
	if len(l.NotInEffect) != 0 {
		t.Errorf("not in effect: %v", l.NotInEffect)
	}
	var got []string
	for _, d := range l.DefaultLimits {
		s := d.ID + ":" + d.Pattern
		if d.MaxConnections != nil {
			s += " c=" + itoa(*d.MaxConnections)
		}
		if d.MaxQueues != nil {
			s += " q=" + itoa(*d.MaxQueues)
		}
		got = append(got, s)
	}
	if want := "1:^pipelines q=1000 | 2:^telemetry c=10000 q=-1 | 10:.* c=20"; strings.Join(got, " | ") != want {
		t.Errorf("default limits %q, want %q", strings.Join(got, " | "), want)
	}
	for text, want := range map[string]string{
		"default_limits.vhosts.1.pattern = (\n":          "is not a regular expression",
		"default_limits.vhosts.1.max_queues = lots\n":    "not an integer",
		"default_limits.vhosts.1.max_queues = -2\n":      "out of range",
		"default_limits.vhosts.1.max_channels = 1\n":     "unknown vhost limit",
		"default_limits.vhosts.pattern = x\n":            "want default_limits.vhosts.<id>",
		"default_limits.users.1.max_connections = 10\n":  "unknown key",
		"default_limits.vhosts.a.max_connections = x1\n": "not an integer",
	} {
		_, err := Read("t.conf", strings.NewReader(text))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "t.conf:1: ") {
			t.Errorf("%q: %v, want t.conf:1: ... %s", text, err, want)
		}
	}
}

func itoa(n int64) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + itoa(n%10)
}
