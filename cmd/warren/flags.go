package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/peterbourgon/ff/v3"

	"github.com/warrenmq/warren/cmd/warren/config"
)

// flags are the command line. Each flag can also be given as WARREN_<NAME>
// (WARREN_AMQP_PORT for -amqp-port), and either beats the config file: a
// flag's default only describes the setting when neither the file nor the
// environment sets it.
type flags struct {
	fs          *flag.FlagSet
	config      string
	bind        string
	amqpPort    int
	httpPort    int
	promPort    int
	streamPort  int
	dataDir     string
	logLevel    string
	segSize     int64
	fsync       bool
	maxMsg      int64
	heartbeat   uint
	pprofAddr   string
	goMemLimit  string
	loops       int
	showVersion bool
	tls         *tlsFlags
}

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	d := config.Default()
	f := &flags{fs: flag.NewFlagSet("warren", flag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "", "rabbitmq.conf-style config file (also RABBITMQ_CONFIG_FILE)")
	fs.StringVar(&f.bind, "bind", d.AMQP[0].Host, "address to listen on (0.0.0.0 for all)")
	fs.IntVar(&f.amqpPort, "amqp-port", d.AMQP[0].Port, "AMQP 0-9-1 port")
	fs.IntVar(&f.httpPort, "http-port", d.Management.Port, "management HTTP port (0 disables)")
	fs.IntVar(&f.promPort, "prometheus-port", d.Prometheus.Port, "Prometheus metrics port, as rabbitmq_prometheus's (0 disables)")
	fs.IntVar(&f.streamPort, "stream-port", d.Stream[0].Port, "RabbitMQ stream protocol port (0 disables)")
	fs.StringVar(&f.dataDir, "data-dir", d.DataDir, "where queues and definitions are stored")
	fs.StringVar(&f.logLevel, "log-level", d.Log.ConsoleLevel, "debug, info, warn or error")
	fs.Int64Var(&f.segSize, "segment-size", d.SegmentSize, "bytes per queue segment file")
	fs.BoolVar(&f.fsync, "fsync", !d.NoFsync, "confirm persistent publishes after fdatasync (false: once written to the kernel)")
	fs.Int64Var(&f.maxMsg, "max-message-size", d.MaxMessageSize, "largest message body accepted, bytes")
	fs.UintVar(&f.heartbeat, "heartbeat", uint(d.Heartbeat), "heartbeat seconds offered to clients (0 disables)")
	fs.StringVar(&f.pprofAddr, "pprof", "", "serve net/http/pprof on this address (e.g. 127.0.0.1:6060)")
	fs.StringVar(&f.goMemLimit, "go-memory-limit", "", "Go heap soft limit, a size (e.g. 64MiB; 0 for none); default half the memory alarm's limit")
	fs.IntVar(&f.loops, "loops", d.EventLoops, "event loops (0: one per CPU)")
	fs.BoolVar(&f.showVersion, "version", false, "print the version and exit")
	f.tls = registerTLSFlags(fs)
	if err := ff.Parse(fs, args, ff.WithEnvVarPrefix("WARREN")); err != nil {
		return nil, err
	}
	return f, nil
}

// configPath is -config, else RABBITMQ_CONFIG_FILE, which RabbitMQ allows
// without its .conf extension.
func (f *flags) configPath() string {
	if f.config != "" {
		return f.config
	}
	p := os.Getenv("RABBITMQ_CONFIG_FILE")
	if p != "" && filepath.Ext(p) == "" {
		if _, err := os.Stat(p + ".conf"); err == nil {
			return p + ".conf"
		}
	}
	return p
}

// settings loads the config file (or the defaults without one) and lays
// the environment and the flags over it: defaults < file < RABBITMQ_NODE_*
// and RABBITMQ_DEFAULT_* < WARREN_* and flags.
func (f *flags) settings() (*config.Loaded, error) {
	l := &config.Loaded{Config: config.Default()}
	if p := f.configPath(); p != "" {
		var err error
		if l, err = config.Load(p); err != nil {
			return nil, err
		}
	}
	c := &l.Config
	if v := os.Getenv("RABBITMQ_NODE_IP_ADDRESS"); v != "" {
		c.AMQP[0].Host = v
	}
	if v := os.Getenv("RABBITMQ_NODE_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			return nil, fmt.Errorf("RABBITMQ_NODE_PORT=%q is not a port", v)
		}
		c.AMQP[0].Port = p
	}
	// RabbitMQ's RABBITMQ_DEFAULT_USER, _PASS and _VHOST (rabbit_env):
	// what the default data of a fresh node is seeded with, over the
	// file's default_user, default_pass and default_vhost. Empty is unset,
	// as there.
	for _, e := range []struct {
		name string
		to   *string
	}{{"RABBITMQ_DEFAULT_USER", &c.DefaultUser}, {"RABBITMQ_DEFAULT_PASS", &c.DefaultPass}, {"RABBITMQ_DEFAULT_VHOST", &c.DefaultVHost}} {
		if v := os.Getenv(e.name); v != "" {
			*e.to = v
		}
	}
	var err error
	f.fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "bind":
			c.AMQP[0].Host, c.Management.Host, c.Prometheus.Host = f.bind, f.bind, f.bind
			for i := range c.Stream {
				c.Stream[i].Host = f.bind
			}
		case "amqp-port":
			c.AMQP[0].Port = f.amqpPort
		case "http-port":
			c.Management.Port = f.httpPort
		case "prometheus-port":
			c.Prometheus.Port = f.promPort
		case "stream-port":
			c.Stream = streamPortFlag(c.Stream, c.AMQP[0].Host, f.streamPort)
		case "data-dir":
			c.DataDir = f.dataDir
		case "log-level":
			c.Log.ConsoleLevel, err = flagLogLevel(f.logLevel)
		case "segment-size":
			c.SegmentSize = f.segSize
		case "fsync":
			c.NoFsync = !f.fsync
		case "max-message-size":
			c.MaxMessageSize = f.maxMsg
		case "heartbeat":
			c.Heartbeat = int(f.heartbeat)
		case "pprof":
			c.Pprof = f.pprofAddr
		case "loops":
			c.EventLoops = f.loops
		case "go-memory-limit":
			var n int64
			if n, err = config.ParseSize(f.goMemLimit); err != nil {
				err = fmt.Errorf("-go-memory-limit: %w", err)
			}
			c.GoMemoryLimit = config.Watermark{Absolute: n}
		}
	})
	if err != nil {
		return nil, err
	}
	if c.Heartbeat > 65535 {
		return nil, fmt.Errorf("-heartbeat %d is more than 65535", c.Heartbeat)
	}
	return l, nil
}

// flagLogLevel takes slog's names and RabbitMQ's (warning, critical).
func flagLogLevel(v string) (string, error) {
	switch strings.ToLower(v) {
	case "debug", "info", "warn", "error", "none":
		return strings.ToLower(v), nil
	case "warning":
		return "warn", nil
	case "critical":
		return "error", nil
	}
	return "", fmt.Errorf("bad -log-level %q: debug, info, warn or error", v)
}
