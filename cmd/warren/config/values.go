package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// The value types of RabbitMQ's schema (rabbit.schema) that Warren's keys
// use. Each returns a reason when the value does not fit.

func parseBool(v string) (bool, error) {
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", v)
}

func parseInt(v string, min, max int64) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", v)
	}
	if n < min || n > max {
		return 0, fmt.Errorf("%d is out of range [%d, %d]", n, min, max)
	}
	return n, nil
}

func parseRatio(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f < 0 {
		return 0, fmt.Errorf("%q is not a non-negative number", v)
	}
	return f, nil
}

// sizeUnits are RabbitMQ's information units (rabbit_resource_monitor_misc):
// k/kiB, M/MiB, G/GiB, T/TiB are powers of 1024; kB, MB, GB, TB powers of
// 1000. A bare number is bytes.
var sizeUnits = map[string]int64{
	"":  1,
	"k": 1 << 10, "kiB": 1 << 10, "K": 1 << 10, "KiB": 1 << 10,
	"M": 1 << 20, "MiB": 1 << 20,
	"G": 1 << 30, "GiB": 1 << 30,
	"T": 1 << 40, "TiB": 1 << 40,
	"kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
}

func parseSize(v string) (int64, error) {
	i := len(v)
	for i > 0 && (v[i-1] < '0' || v[i-1] > '9') {
		i--
	}
	unit, ok := sizeUnits[strings.TrimSpace(v[i:])]
	n, err := strconv.ParseInt(strings.TrimSpace(v[:i]), 10, 64)
	if !ok || err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size (a number of bytes, optionally with a unit: kB, MB, GB, k/kiB, M/MiB, G/GiB)", v)
	}
	if n > math.MaxInt64/unit {
		return 0, fmt.Errorf("%q is too large", v)
	}
	return n * unit, nil
}

// parseMillis reads RabbitMQ's timeouts, which are integers in milliseconds.
func parseMillis(v string) (time.Duration, error) {
	n, err := parseInt(v, 0, math.MaxInt64/int64(time.Millisecond))
	if err != nil {
		return 0, err
	}
	return time.Duration(n) * time.Millisecond, nil
}

// Listener is one address to listen on; Host "" means every interface.
type Listener struct {
	Host string
	Port int
}

// Addr is the listener in net.Listen's form.
func (l Listener) Addr() string { return net.JoinHostPort(l.Host, strconv.Itoa(l.Port)) }

// parseListener reads a listeners.tcp.* value as RabbitMQ does: a port
// alone (every interface), or IP:port where the port follows the last
// colon, so IPv6 addresses need no brackets (`::1:5672`); brackets are
// accepted too.
func parseListener(v string) (Listener, error) {
	if p, err := strconv.Atoi(v); err == nil {
		if p < 0 || p > 65535 {
			return Listener{}, fmt.Errorf("port %d is out of range", p)
		}
		return Listener{Port: p}, nil
	}
	if strings.HasPrefix(v, "unix:") || strings.HasPrefix(v, "local:") {
		return Listener{}, fmt.Errorf("unix socket listeners are not supported")
	}
	i := strings.LastIndexByte(v, ':')
	if i < 0 {
		return Listener{}, fmt.Errorf("%q is neither a port nor IP:port", v)
	}
	host := strings.TrimSuffix(strings.TrimPrefix(v[:i], "["), "]")
	p, err := strconv.Atoi(v[i+1:])
	if err != nil || p < 0 || p > 65535 {
		return Listener{}, fmt.Errorf("%q has no valid port after the last colon", v)
	}
	if net.ParseIP(host) == nil {
		return Listener{}, fmt.Errorf("%q is not an IP address", host)
	}
	return Listener{Host: host, Port: p}, nil
}

func parseIP(v string) (string, error) {
	if net.ParseIP(v) == nil {
		return "", fmt.Errorf("%q is not an IP address", v)
	}
	return v, nil
}

// logLevels maps RabbitMQ's log levels to Warren's (slog has no critical:
// it is error; none turns the output off).
var logLevels = map[string]string{
	"debug": "debug", "info": "info", "notice": "info", "warning": "warn",
	"error": "error", "critical": "error", "none": "none",
}

func parseLogLevel(v string) (string, error) {
	l, ok := logLevels[v]
	if !ok {
		return "", fmt.Errorf("%q is not a log level (debug, info, warning, error, critical, none)", v)
	}
	return l, nil
}

func parseFormatter(v string) (string, error) {
	switch v {
	case "plaintext", "json":
		return v, nil
	}
	return "", fmt.Errorf("%q is not a log formatter (plaintext or json)", v)
}

func parsePath(v string) (string, error) {
	if strings.ContainsRune(v, 0) {
		return "", fmt.Errorf("a path cannot hold a NUL byte")
	}
	return v, nil
}

// parseDefinitions checks a load_definitions path as far as can be done
// before the importer reads it: a directory (of .json files), or a regular
// file that starts as a JSON object does (a definitions export). A missing
// or unreadable path stops the start, as it stops RabbitMQ's boot.
func parseDefinitions(v string) (string, error) {
	st, err := os.Stat(v)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %v", v, errors.Unwrap(err))
	}
	if st.IsDir() {
		return v, nil
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is neither a file nor a directory", v)
	}
	f, err := os.Open(v)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %v", v, errors.Unwrap(err))
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := io.ReadFull(f, head)
	if t := bytes.TrimLeft(head[:n], " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return "", fmt.Errorf("%s is not a definitions export (a JSON object)", v)
	}
	return v, nil
}

// readable is RabbitMQ's file_accessible validator for TLS files: the
// node must be able to read the file now, not when a client first needs it.
func readable(v string) error {
	if st, err := os.Stat(v); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", v) // a FIFO would block the open
	}
	f, err := os.Open(v)
	if err != nil {
		return fmt.Errorf("cannot read %s: %v", v, errors.Unwrap(err))
	}
	return f.Close()
}

func parseOneOf(v string, allowed ...string) (string, error) {
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
}

// positiveMillis is parseMillis for timeouts where 0 would mean "at once".
func positiveMillis(v string) (time.Duration, error) {
	d, err := parseMillis(v)
	if err == nil && d == 0 {
		err = fmt.Errorf("0 is not a timeout")
	}
	return d, err
}

// ParseSize reads a size in RabbitMQ's units (for flags that take one).
func ParseSize(v string) (int64, error) { return parseSize(v) }
