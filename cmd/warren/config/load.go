package config

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
)

// Loaded is a file applied over the defaults, with what the file holds
// that Warren does not act on yet.
type Loaded struct {
	Config
	// NotInEffect are keys accepted for features not built yet, as
	// "key (line N)"; Ignored are RabbitMQ keys Warren has no use for.
	NotInEffect []string
	Ignored     []string
}

// Load reads the file at path over Default(). Every error is an *Error
// naming the file and line.
func Load(path string) (*Loaded, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot read: " + strings.TrimPrefix(err.Error(), "open "+path+": ")}
	}
	defer f.Close()
	return Read(path, f)
}

// Read is Load from a reader; name is the file name errors carry.
func Read(name string, r io.Reader) (*Loaded, error) {
	settings, err := Parse(name, r)
	if err != nil {
		return nil, err
	}
	l := &Loaded{Config: Default()}
	tcpSet, streamSet := false, false
	for _, s := range settings {
		rl, suffix, ok := lookup(s.Key)
		if !ok {
			return nil, &Error{File: name, Line: s.Line, Key: s.Key, Msg: "unknown key" + hint(s.Key)}
		}
		where := fmt.Sprintf("%s (line %d)", s.Key, s.Line)
		if rl.status == ignored {
			l.Ignored = append(l.Ignored, where)
			continue
		}
		// A file that names its own AMQP listeners replaces the default one.
		if strings.HasPrefix(s.Key, "listeners.tcp") && !tcpSet {
			l.AMQP, tcpSet = nil, true
		}
		if strings.HasPrefix(s.Key, "stream.listeners.tcp") && !streamSet {
			l.Stream, streamSet = nil, true
		}
		active, err := rl.apply(&l.Config, suffix, s.Value)
		if err != nil {
			return nil, &Error{File: name, Line: s.Line, Key: s.Key, Msg: err.Error()}
		}
		if !active {
			l.NotInEffect = append(l.NotInEffect, where)
		}
	}
	if err := l.check(name); err != nil {
		return nil, err
	}
	if len(l.Stream) > 1 {
		for _, extra := range l.Stream[1:] {
			l.NotInEffect = append(l.NotInEffect, fmt.Sprintf("stream.listeners.tcp.%s (a second stream listener: Warren serves %s only)", extra.Name, l.Stream[0].Addr()))
		}
	}
	return l, nil
}

// Mechanisms is auth_mechanisms.* in the order of N (numbers first, in
// numeric order; other names after, sorted), without the mechanisms Warren
// does not have (RABBIT-CR-DEMO); nil when the file names none, for
// RabbitMQ's default.
func (c *Config) Mechanisms() []string {
	if len(c.AuthMechanisms) == 0 {
		return nil
	}
	keys := make([]string, 0, len(c.AuthMechanisms))
	for k := range c.AuthMechanisms {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return idLess(keys[i], keys[j]) })
	out := []string{}
	for _, k := range keys {
		if m := c.AuthMechanisms[k]; m != "RABBIT-CR-DEMO" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// HasMechanism is whether auth_mechanisms.* names m.
func (c *Config) HasMechanism(m string) bool {
	for _, v := range c.AuthMechanisms {
		if v == m {
			return true
		}
	}
	return false
}

// check is what no single line can tell.
func (l *Loaded) check(name string) error {
	if len(l.AMQP) == 0 {
		return &Error{File: name, Key: "listeners.tcp", Msg: "no AMQP listener: Warren needs a plain AMQP listener next to any listeners.ssl.*"}
	}
	return nil
}

// hint suggests the key a near miss meant, for the common slips.
func hint(key string) string {
	var near []string
	for _, r := range rules {
		p := strings.TrimSuffix(r.pattern, ".*")
		if strings.EqualFold(p, key) || strings.ReplaceAll(p, "_", "") == strings.ReplaceAll(strings.ToLower(key), "_", "") {
			near = append(near, r.pattern)
		}
	}
	if first, _, _ := strings.Cut(key, "."); first == "warren" && len(near) == 0 {
		for _, r := range rules {
			if strings.HasPrefix(r.pattern, "warren.") {
				near = append(near, r.pattern)
			}
		}
	}
	if len(near) == 0 {
		return ""
	}
	sort.Strings(near)
	return " (did you mean " + strings.Join(near, ", ") + "?)"
}
