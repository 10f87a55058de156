// Package config reads Warren's configuration file, which is RabbitMQ's
// new-style rabbitmq.conf: one `key = value` per line, dotted keys, `#`
// comments. An existing rabbitmq.conf loads unchanged: keys Warren shares
// with RabbitMQ keep RabbitMQ's names and value syntax, Warren's own keys
// sit under `warren.`, and keys Warren does not (yet) act on are reported,
// never dropped silently. Only cmd/warren imports this package.
package config

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Setting is one `key = value` line of a file.
type Setting struct {
	Key   string
	Value string
	Line  int
}

// Error is a refused file: where, and why. Its text is one line, as
// "file:line: key: reason".
type Error struct {
	File string
	Line int    // 0 when the error is about the file as a whole
	Key  string // "" for a line that is not a setting
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Parse reads a file in cuttlefish's syntax (RabbitMQ's parser): blank lines
// and lines starting with # are skipped; a setting is `key = value` where
// the key is dot-separated words of letters, digits, `_` and `-`, and the
// value runs to the end of the line or to a `#` that starts a comment. A
// value may be single-quoted to hold a `#`. A key set twice keeps the last
// value, as in RabbitMQ. name is only used in errors.
func Parse(name string, r io.Reader) ([]Setting, error) {
	var out []Setting
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			if f := strings.Fields(line); len(f) > 0 && f[0] == "include" {
				return nil, &Error{File: name, Line: n, Msg: "include directives are not supported: put the settings in this file"}
			}
			return nil, &Error{File: name, Line: n, Msg: fmt.Sprintf("not a `key = value` setting: %q", line)}
		}
		key = strings.TrimSpace(key)
		if err := checkKey(key); err != "" {
			return nil, &Error{File: name, Line: n, Key: key, Msg: err}
		}
		v, err := parseValue(strings.TrimSpace(value))
		if err != "" {
			return nil, &Error{File: name, Line: n, Key: key, Msg: err}
		}
		out = append(out, Setting{Key: key, Value: v, Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, &Error{File: name, Msg: err.Error()}
	}
	return out, nil
}

func checkKey(key string) string {
	if key == "" {
		return "empty key"
	}
	for _, word := range strings.Split(key, ".") {
		if word == "" {
			return "empty word in a dotted key"
		}
		for _, c := range word {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				return fmt.Sprintf("character %q is not allowed in a key", c)
			}
		}
	}
	return ""
}

// parseValue cuts a trailing comment and unquotes a single-quoted value.
func parseValue(v string) (string, string) {
	if strings.HasPrefix(v, "'") {
		end := strings.IndexByte(v[1:], '\'')
		if end < 0 {
			return "", "unterminated quoted value"
		}
		rest := strings.TrimSpace(v[end+2:])
		if rest != "" && rest[0] != '#' {
			return "", fmt.Sprintf("unexpected %q after the quoted value", rest)
		}
		return v[1 : end+1], ""
	}
	if i := strings.IndexByte(v, '#'); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	if v == "" {
		return "", "missing value"
	}
	return v, ""
}
