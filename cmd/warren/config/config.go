package config

import (
	"sort"
	"strconv"
	"time"
)

// Config is every setting the file can carry. Settings of features that do
// not exist yet are parsed and validated here, so that those features find
// them when they land, and Load reports them as not in effect.
type Config struct {
	// AMQP is listeners.tcp.*, in file order; a name set twice keeps its
	// place and takes the new address. Warren serves them all; the flags
	// (-bind, -amqp-port) and RABBITMQ_NODE_* change the first.
	AMQP []NamedListener
	// Management is management.tcp.{ip,port}; Port 0 disables it.
	Management Listener
	// Prometheus is prometheus.tcp.{ip,port} (rabbitmq_prometheus's
	// listener, /metrics); Port 0 disables it.
	Prometheus Listener
	// Stream is stream.listeners.tcp.* (RabbitMQ's stream plugin): Warren
	// serves the first; none (or port 0) disables the stream protocol.
	// StreamAdvertisedHost/Port are stream.advertised_host/port, what
	// metadata tells clients (empty/0: the address the client reached).
	Stream               []NamedListener
	StreamAdvertisedHost string
	StreamAdvertisedPort int

	Heartbeat        int // seconds offered in connection.tune; 0 disables
	FrameMax         uint32
	ChannelMax       uint16
	ConnectionMax    int // connection_max; 0 = infinity
	MaxMessageSize   int64
	HandshakeTimeout time.Duration
	// SSLHandshakeTimeout is ssl_handshake_timeout: the TLS handshake of
	// an AMQPS connection, before handshake_timeout's AMQP one.
	SSLHandshakeTimeout time.Duration

	DefaultUser     string
	DefaultPass     string
	DefaultUserTags []string
	// LoopbackUsers maps each user named in loopback_users.* to whether it
	// may log in over loopback only; loopback_users = none empties it.
	LoopbackUsers map[string]bool

	Log Log

	// TrackAuthAttemptSource counts logins per remote address and user
	// as well (track_auth_attempt_source; off by default, as in RabbitMQ).
	TrackAuthAttemptSource bool

	// Warren's own keys (warren.*).
	DataDir     string
	SegmentSize int64
	// NoFsync is warren.fsync = false: confirm a persistent publish once
	// it is written to the kernel, without waiting for an fdatasync.
	NoFsync    bool
	EventLoops int
	Pprof      string
	// GoMemoryLimit is the Go runtime's soft memory limit
	// (debug.SetMemoryLimit), warren.go_memory_limit.*: absolute bytes, or
	// relative to the memory alarm's limit (vm_memory_high_watermark).
	// Relative 0 with no absolute value leaves the runtime's default.
	GoMemoryLimit Watermark
	// MaxMappings is warren.max_mappings: the segment and ack file
	// mappings the broker keeps at once (segment.MapBudget); 0 means half
	// of vm.max_map_count.
	MaxMappings int

	DefaultVHost       string
	DefaultPermissions Permissions

	// TLS is listeners.ssl.*, in file order: Warren serves them all with
	// SSLOptions (-amqps-port changes the first). SSLOptions and ManagementTLS hold ssl_options.* and
	// management.ssl.* by suffix, validated (versions.N and ciphers.N are
	// lists, in the order of N); a management.ssl.port enables HTTPS.
	TLS            []NamedListener
	SSLOptions     map[string]string
	ManagementTLS  map[string]string
	AuthMechanisms map[string]string // auth_mechanisms.N by N
	CertLogin      CertLogin

	// DefaultLimits is default_limits.vhosts.<id>.*, in the order of the
	// ids (numbers first, numerically): a new vhost takes the limits of the
	// first entry whose pattern its name matches.
	DefaultLimits []VHostDefaults

	// For features landing later in issue 16: carried, not acted on.
	MemoryHighWatermark Watermark
	DiskFreeLimit       Watermark
	ConsumerTimeout     time.Duration
	LoadDefinitions     string
}

// DefaultGoMemoryLimitRatio puts the Go heap's soft limit at half the
// memory alarm's limit, as RabbitMQ starts paging queues out at half its
// watermark (vm_memory_high_watermark_paging_ratio): the collector works
// harder well before publishers are blocked.
const DefaultGoMemoryLimitRatio = 0.5

// NamedListener is one listeners.tcp.<name> or listeners.ssl.<name>.
type NamedListener struct {
	Name string
	Listener
}

// CertLogin is ssl_cert_login_from, ssl_cert_login_san_type and
// ssl_cert_login_san_index: how EXTERNAL names the user. The default is
// RabbitMQ's, the whole subject (RFC 4514 form).
type CertLogin struct {
	From     string
	SANType  string
	SANIndex int
}

// Permissions is default_permissions.*: regular expressions.
type Permissions struct{ Configure, Read, Write string }

// Watermark is a limit given either relative to a total or in bytes
// (vm_memory_high_watermark.*, disk_free_limit.*); the last one set wins,
// as in RabbitMQ.
type Watermark struct {
	Relative float64
	Absolute int64 // bytes; used when > 0
}

// Log is log.*: Warren logs to the console (stderr) and optionally to a
// file, each with its own level and format.
type Log struct {
	Console          bool
	ConsoleLevel     string // debug, info, warn, error or none
	ConsoleFormatter string // plaintext or json
	Dir              string // log.dir: where a relative log.file lives
	File             string // "" when there is no log file
	FileLevel        string
	FileFormatter    string
}

// Default is the configuration without a file: `make run`'s broker.
// Warren listens on loopback unless told otherwise, unlike RabbitMQ, whose
// default is every interface.
func Default() Config {
	return Config{
		AMQP:                []NamedListener{{Name: "default", Listener: Listener{Host: "127.0.0.1", Port: 5672}}},
		Management:          Listener{Host: "127.0.0.1", Port: 15672},
		Prometheus:          Listener{Host: "127.0.0.1", Port: 15692},
		Stream:              []NamedListener{{Name: "default", Listener: Listener{Host: "127.0.0.1", Port: 5552}}},
		Heartbeat:           60,
		FrameMax:            131072,
		ChannelMax:          2047,
		MaxMessageSize:      128 << 20,
		HandshakeTimeout:    10 * time.Second,
		SSLHandshakeTimeout: 5 * time.Second,
		DefaultUser:         "guest",
		DefaultPass:         "guest",
		DefaultUserTags:     []string{"administrator"},
		LoopbackUsers:       map[string]bool{"guest": true},
		Log:                 Log{Console: true, ConsoleLevel: "info", ConsoleFormatter: "plaintext", FileLevel: "info", FileFormatter: "plaintext"},
		DataDir:             "./data",
		SegmentSize:         8 << 20,
		DefaultVHost:        "/",
		DefaultPermissions:  Permissions{".*", ".*", ".*"},
		SSLOptions:          map[string]string{},
		ManagementTLS:       map[string]string{},
		AuthMechanisms:      map[string]string{},
		CertLogin:           CertLogin{From: "distinguished_name", SANType: "dns"},
		MemoryHighWatermark: Watermark{Relative: 0.4},
		GoMemoryLimit:       Watermark{Relative: DefaultGoMemoryLimitRatio},
		DiskFreeLimit:       Watermark{Absolute: 50_000_000},
		ConsumerTimeout:     30 * time.Minute,
	}
}

func setListener(ls []NamedListener, name string, l Listener) []NamedListener {
	for i := range ls {
		if ls[i].Name == name {
			ls[i].Listener = l
			return ls
		}
	}
	return append(ls, NamedListener{Name: name, Listener: l})
}

// VHostDefaults is one default_limits.vhosts.<id>: nil limits are not set.
type VHostDefaults struct {
	ID             string
	Pattern        string // "" matches every name, as RabbitMQ's default .*
	MaxConnections *int64
	MaxQueues      *int64
}

// vhostDefaults is the entry of id, added in id order if new.
func (c *Config) vhostDefaults(id string) *VHostDefaults {
	for i := range c.DefaultLimits {
		if c.DefaultLimits[i].ID == id {
			return &c.DefaultLimits[i]
		}
	}
	c.DefaultLimits = append(c.DefaultLimits, VHostDefaults{ID: id})
	sort.SliceStable(c.DefaultLimits, func(i, j int) bool { return idLess(c.DefaultLimits[i].ID, c.DefaultLimits[j].ID) })
	for i := range c.DefaultLimits {
		if c.DefaultLimits[i].ID == id {
			return &c.DefaultLimits[i]
		}
	}
	return nil
}

// idLess orders list ids as RabbitMQ's lists read: numbers first, in
// numeric order, then other names sorted.
func idLess(a, b string) bool {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	switch {
	case errA == nil && errB == nil && x != y:
		return x < y
	case (errA == nil) != (errB == nil):
		return errA == nil
	}
	return a < b
}
