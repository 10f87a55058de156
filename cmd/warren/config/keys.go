package config

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
)

// status says what Warren does with a key.
type status int

const (
	inEffect status = iota // acted on now
	notYet                 // parsed and validated for a later feature
	ignored                // RabbitMQ has it; Warren has no use for it
)

// rule is one key, or every key under a prefix when pattern ends in ".*".
// apply validates the value into c; suffix is what the ".*" matched. It
// reports whether the value is in effect: some not-yet keys are in effect
// when they ask for what Warren does anyway (default_vhost = /).
type rule struct {
	pattern string
	status  status
	apply   func(c *Config, suffix, v string) (bool, error)
}

// set wraps a parser and a store into an apply that is always in effect.
func set[T any](parse func(string) (T, error), store func(*Config, T)) func(*Config, string, string) (bool, error) {
	return func(c *Config, _ string, v string) (bool, error) {
		x, err := parse(v)
		if err != nil {
			return false, err
		}
		store(c, x)
		return true, nil
	}
}

func intIn(min, max int64) func(string) (int64, error) {
	return func(v string) (int64, error) { return parseInt(v, min, max) }
}

var rules = []rule{
	{"listeners.tcp", inEffect, func(c *Config, _, v string) (bool, error) {
		if v != "none" {
			return false, fmt.Errorf("%q: only `none` may be given here; listeners go in listeners.tcp.<name>", v)
		}
		c.AMQP = nil
		return true, nil
	}},
	{"listeners.tcp.*", inEffect, func(c *Config, name, v string) (bool, error) {
		l, err := parseListener(v)
		if err != nil {
			return false, err
		}
		c.AMQP = setListener(c.AMQP, name, l)
		return true, nil
	}},
	// RabbitMQ's stream plugin: its listener and what metadata advertises.
	{"stream.listeners.tcp", inEffect, func(c *Config, _, v string) (bool, error) {
		if v != "none" {
			return false, fmt.Errorf("%q: only `none` may be given here; listeners go in stream.listeners.tcp.<name>", v)
		}
		c.Stream = nil
		return true, nil
	}},
	{"stream.listeners.tcp.*", inEffect, func(c *Config, name, v string) (bool, error) {
		l, err := parseListener(v)
		if err != nil {
			return false, err
		}
		c.Stream = setListener(c.Stream, name, l)
		return true, nil
	}},
	{"stream.advertised_host", inEffect, set(nonEmpty, func(c *Config, s string) { c.StreamAdvertisedHost = s })},
	{"stream.advertised_port", inEffect, set(intIn(1, 65535), func(c *Config, p int64) { c.StreamAdvertisedPort = int(p) })},
	{"management.tcp.port", inEffect, set(intIn(0, 65535), func(c *Config, p int64) { c.Management.Port = int(p) })},
	{"management.tcp.ip", inEffect, set(parseIP, func(c *Config, ip string) { c.Management.Host = ip })},
	// RabbitMQ 3.7's names for the same listener.
	{"management.listener.port", inEffect, set(intIn(0, 65535), func(c *Config, p int64) { c.Management.Port = int(p) })},
	{"management.listener.ip", inEffect, set(parseIP, func(c *Config, ip string) { c.Management.Host = ip })},
	// The older way to serve the management port over HTTPS: not wired
	// (management.ssl.* is); reported at start unless it asks for plain.
	{"management.listener.ssl", notYet, func(_ *Config, _, v string) (bool, error) {
		on, err := parseBool(v)
		return !on, err
	}},
	{"management.listener.ssl_opts.*", notYet, func(_ *Config, opt, v string) (bool, error) {
		_, err := tlsOption(map[string]string{}, opt, v)
		return false, err
	}},
	// rabbitmq_prometheus's listener (/metrics); the rest of prometheus.*
	// (path, return_per_object_metrics, ssl) is RabbitMQ-only.
	{"prometheus.tcp.port", inEffect, set(intIn(0, 65535), func(c *Config, p int64) { c.Prometheus.Port = int(p) })},
	{"prometheus.tcp.ip", inEffect, set(parseIP, func(c *Config, ip string) { c.Prometheus.Host = ip })},

	{"heartbeat", inEffect, set(intIn(0, math.MaxUint16), func(c *Config, n int64) { c.Heartbeat = int(n) })},
	// Warren needs a bound on frames it buffers, so frame_max = 0 ("no
	// limit" in RabbitMQ) is refused rather than taken as 4 GiB.
	{"frame_max", inEffect, set(intIn(4096, math.MaxUint32), func(c *Config, n int64) { c.FrameMax = uint32(n) })},
	{"channel_max", inEffect, set(intIn(1, math.MaxUint16), func(c *Config, n int64) { c.ChannelMax = uint16(n) })},
	// RabbitMQ's ceiling for max_message_size is 512 MiB.
	{"max_message_size", inEffect, set(intIn(1, 512<<20), func(c *Config, n int64) { c.MaxMessageSize = n })},
	{"connection_max", inEffect, set(parseLimit, func(c *Config, n int64) { c.ConnectionMax = int(n) })},
	{"consumer_timeout", inEffect, set(positiveMillis, func(c *Config, d time.Duration) { c.ConsumerTimeout = d })},
	{"handshake_timeout", inEffect, set(positiveMillis, func(c *Config, d time.Duration) { c.HandshakeTimeout = d })},

	{"default_user", inEffect, set(nonEmpty, func(c *Config, s string) { c.DefaultUser = s })},
	{"default_pass", inEffect, set(nonEmpty, func(c *Config, s string) { c.DefaultPass = s })},
	{"default_user_tags.*", inEffect, func(c *Config, tag, v string) (bool, error) {
		on, err := parseBool(v)
		if err != nil {
			return false, err
		}
		tags := c.DefaultUserTags[:0:0]
		for _, t := range c.DefaultUserTags {
			if t != tag {
				tags = append(tags, t)
			}
		}
		if on {
			tags = append(tags, tag)
		}
		c.DefaultUserTags = tags
		return true, nil
	}},
	{"loopback_users", inEffect, func(c *Config, _, v string) (bool, error) {
		if v != "none" {
			return false, fmt.Errorf("%q: only `none` may be given here; users go in loopback_users.<name> = true|false", v)
		}
		c.LoopbackUsers = map[string]bool{}
		return true, nil
	}},
	{"loopback_users.*", inEffect, func(c *Config, user, v string) (bool, error) {
		on, err := parseBool(v)
		if err != nil {
			return false, err
		}
		c.LoopbackUsers[user] = on
		return true, nil
	}},

	{"log.console", inEffect, set(parseBool, func(c *Config, b bool) { c.Log.Console = b })},
	{"log.console.level", inEffect, set(parseLogLevel, func(c *Config, l string) { c.Log.ConsoleLevel = l })},
	{"log.console.formatter", inEffect, set(parseFormatter, func(c *Config, f string) { c.Log.ConsoleFormatter = f })},
	{"log.dir", inEffect, set(parsePath, func(c *Config, p string) { c.Log.Dir = p })},
	{"log.file", inEffect, set(parsePath, func(c *Config, p string) {
		if p == "false" {
			p = ""
		}
		c.Log.File = p
	})},
	{"log.file.level", inEffect, set(parseLogLevel, func(c *Config, l string) { c.Log.FileLevel = l })},
	{"log.file.formatter", inEffect, set(parseFormatter, func(c *Config, f string) { c.Log.FileFormatter = f })},

	{"warren.data_dir", inEffect, set(nonEmpty, func(c *Config, p string) { c.DataDir = p })},
	{"warren.segment_size", inEffect, set(sizeIn(4096, 1<<32-1<<16), func(c *Config, n int64) { c.SegmentSize = n })},
	{"track_auth_attempt_source", inEffect, set(parseBool, func(c *Config, b bool) { c.TrackAuthAttemptSource = b })},
	{"warren.fsync", inEffect, set(parseBool, func(c *Config, b bool) { c.NoFsync = !b })},
	{"warren.event_loops", inEffect, set(intIn(0, 1024), func(c *Config, n int64) { c.EventLoops = int(n) })},
	{"warren.go_memory_limit.relative", inEffect, set(parseRatio, func(c *Config, f float64) {
		c.GoMemoryLimit = Watermark{Relative: f}
	})},
	{"warren.go_memory_limit.absolute", inEffect, set(parseSize, func(c *Config, n int64) {
		c.GoMemoryLimit = Watermark{Absolute: n}
	})},
	{"warren.max_mappings", inEffect, set(intIn(0, 1<<31-1), func(c *Config, n int64) { c.MaxMappings = int(n) })},
	{"warren.pprof", inEffect, set(nonEmpty, func(c *Config, a string) { c.Pprof = a })},

	// A fresh data dir's vhost and the default user's permissions in it.
	{"default_vhost", inEffect, set(nonEmpty, func(c *Config, v string) { c.DefaultVHost = v })},
	{"default_permissions.*", inEffect, func(c *Config, verb, v string) (bool, error) {
		switch verb {
		case "configure":
			c.DefaultPermissions.Configure = v
		case "read":
			c.DefaultPermissions.Read = v
		case "write":
			c.DefaultPermissions.Write = v
		default:
			return false, fmt.Errorf("unknown permission %q (configure, read or write)", verb)
		}
		if _, err := regexp.Compile(v); err != nil {
			return false, fmt.Errorf("%q is not a regular expression: %v", v, err)
		}
		return true, nil
	}},

	// TLS: the AMQPS listener, its options, the management HTTPS listener.
	{"listeners.ssl", inEffect, func(c *Config, _, v string) (bool, error) {
		if v != "none" {
			return false, fmt.Errorf("%q: only `none` may be given here; listeners go in listeners.ssl.<name>", v)
		}
		c.TLS = nil
		return true, nil
	}},
	{"listeners.ssl.*", inEffect, func(c *Config, name, v string) (bool, error) {
		l, err := parseListener(v)
		if err != nil {
			return false, err
		}
		c.TLS = setListener(c.TLS, name, l)
		return true, nil
	}},
	{"ssl_options.*", inEffect, func(c *Config, opt, v string) (bool, error) {
		return tlsOption(c.SSLOptions, opt, v)
	}},
	{"management.ssl.*", inEffect, func(c *Config, opt, v string) (bool, error) {
		switch opt {
		case "port":
			_, err := parseInt(v, 0, 65535)
			if err != nil {
				return false, err
			}
			c.ManagementTLS[opt] = v
			return true, nil
		case "ip":
			_, err := parseIP(v)
			if err != nil {
				return false, err
			}
			c.ManagementTLS[opt] = v
			return true, nil
		}
		return tlsOption(c.ManagementTLS, opt, v)
	}},
	// What connection.start offers and start-ok may pick (Mechanisms);
	// RABBIT-CR-DEMO, RabbitMQ's demonstration mechanism, is not in effect.
	{"auth_mechanisms.*", inEffect, func(c *Config, n, v string) (bool, error) {
		m, err := parseOneOf(v, "PLAIN", "AMQPLAIN", "EXTERNAL", "RABBIT-CR-DEMO")
		if err != nil {
			return false, err
		}
		c.AuthMechanisms[n] = m
		return m != "RABBIT-CR-DEMO", nil
	}},
	{"ssl_cert_login_from", inEffect, set(func(v string) (string, error) {
		return parseOneOf(v, "distinguished_name", "common_name", "subject_alternative_name")
	}, func(c *Config, s string) { c.CertLogin.From = s })},
	{"ssl_cert_login_san_type", inEffect, set(func(v string) (string, error) {
		return parseOneOf(v, "dns", "ip", "email", "uri")
	}, func(c *Config, s string) { c.CertLogin.SANType = s })},
	{"ssl_cert_login_san_index", inEffect, set(intIn(0, math.MaxInt32), func(c *Config, n int64) { c.CertLogin.SANIndex = int(n) })},

	// Accepted now, acted on by features landing later in issue 16.
	{"ssl_handshake_timeout", inEffect, set(positiveMillis, func(c *Config, d time.Duration) { c.SSLHandshakeTimeout = d })},
	{"vm_memory_high_watermark.relative", inEffect, set(parseRatio, func(c *Config, f float64) {
		c.MemoryHighWatermark = Watermark{Relative: f}
	})},
	{"vm_memory_high_watermark.absolute", inEffect, set(parseSize, func(c *Config, n int64) {
		c.MemoryHighWatermark = Watermark{Absolute: n}
	})},
	{"disk_free_limit.relative", inEffect, set(parseRatio, func(c *Config, f float64) { c.DiskFreeLimit = Watermark{Relative: f} })},
	{"disk_free_limit.absolute", inEffect, set(parseSize, func(c *Config, n int64) { c.DiskFreeLimit = Watermark{Absolute: n} })},
	{"load_definitions", inEffect, set(parseDefinitions, func(c *Config, p string) { c.LoadDefinitions = p })},
	{"management.load_definitions", inEffect, set(parseDefinitions, func(c *Config, p string) { c.LoadDefinitions = p })},
	// RabbitMQ 3.10's newer syntax for the same local import
	// (rabbit.schema: definitions.local.path, definitions.import_backend).
	{"definitions.local.path", inEffect, set(parseDefinitions, func(c *Config, p string) { c.LoadDefinitions = p })},
	{"definitions.import_backend", inEffect, func(_ *Config, _, v string) (bool, error) {
		switch v {
		case "local_filesystem", "local", "rabbit_definitions_import_local_filesystem", "rabbitmq_definitions_import_local_filesystem":
			return true, nil
		case "https", "http", "rabbit_definitions_import_https", "rabbitmq_definitions_import_http":
			return false, nil // an import over HTTPS: not built; reported at start
		}
		return false, fmt.Errorf("%q is not a definitions import backend (local_filesystem or https)", v)
	}},
	// Warren imports at every start, idempotently: what skip_if_unchanged
	// = false asks for. true (skip an unchanged file, so objects deleted
	// since stay deleted) is not built.
	{"definitions.skip_if_unchanged", inEffect, func(_ *Config, _, v string) (bool, error) {
		skip, err := parseBool(v)
		return !skip, err
	}},
	{"max_connections", notYet, checkOnly(limit)},
	{"max_channels_per_connection", notYet, checkOnly(limit)},
	{"vhost_max", notYet, checkOnly(limit)},
	// RabbitMQ 3.12's default_limits.vhosts.<id>.{pattern,max_connections,max_queues}.
	{"default_limits.vhosts.*", inEffect, func(c *Config, suffix, v string) (bool, error) {
		id, field, ok := strings.Cut(suffix, ".")
		if !ok || id == "" {
			return false, fmt.Errorf("want default_limits.vhosts.<id>.pattern, .max_connections or .max_queues")
		}
		d := c.vhostDefaults(id)
		switch field {
		case "pattern":
			if _, err := regexp.Compile(v); err != nil {
				return false, fmt.Errorf("%q is not a regular expression: %v", v, err)
			}
			d.Pattern = v
		case "max_connections", "max_queues":
			n, err := parseInt(v, -1, math.MaxInt32)
			if err != nil {
				return false, err
			}
			if field == "max_connections" {
				d.MaxConnections = &n
			} else {
				d.MaxQueues = &n
			}
		default:
			return false, fmt.Errorf("unknown vhost limit %q (pattern, max_connections or max_queues)", field)
		}
		return true, nil
	}},
}

// sizeIn is parseSize within [min, max] bytes.
func sizeIn(min, max int64) func(string) (int64, error) {
	return func(v string) (int64, error) {
		n, err := parseSize(v)
		if err == nil && (n < min || n > max) {
			err = fmt.Errorf("%s is out of range [%d, %d] bytes", v, min, max)
		}
		return n, err
	}
}

func checkOnly(check func(string) error) func(*Config, string, string) (bool, error) {
	return func(_ *Config, _, v string) (bool, error) { return false, check(v) }
}

// limit is RabbitMQ's limit type: a count or infinity.
// parseLimit reads a count or RabbitMQ's `infinity` (0).
func parseLimit(v string) (int64, error) {
	if v == "infinity" {
		return 0, nil
	}
	return parseInt(v, 0, math.MaxInt32)
}

func limit(v string) error {
	if v == "infinity" {
		return nil
	}
	_, err := parseInt(v, 0, math.MaxInt32)
	return err
}

func nonEmpty(v string) (string, error) {
	if strings.TrimSpace(v) == "" {
		return "", fmt.Errorf("empty value")
	}
	return v, nil
}

// tlsOption validates one ssl_options.* or management.ssl.* option with
// RabbitMQ's types; versions.N and ciphers.N are lists. It reports whether
// netio.TLSOptions has the option: Go's TLS has no knob for the others.
func tlsOption(into map[string]string, opt, v string) (bool, error) {
	name, _, _ := strings.Cut(opt, ".")
	var err error
	switch name {
	case "cacertfile", "certfile", "keyfile":
		err = readable(v)
	case "password", "ciphers", "server_name_indication", "log_level":
	case "verify":
		_, err = parseOneOf(v, "verify_peer", "verify_none")
	case "fail_if_no_peer_cert", "honor_cipher_order", "honor_ecc_order", "reuse_sessions",
		"secure_renegotiate", "client_renegotiation":
		_, err = parseBool(v)
	case "depth":
		_, err = parseInt(v, 0, 255)
	case "versions":
		_, err = parseOneOf(v, "tlsv1.3", "tlsv1.2", "tlsv1.1", "tlsv1")
	default:
		return false, fmt.Errorf("unknown TLS option %q", opt)
	}
	if err != nil {
		return false, err
	}
	into[opt] = v
	switch name {
	case "cacertfile", "certfile", "keyfile", "password", "verify", "fail_if_no_peer_cert", "depth", "versions", "ciphers":
		return true, nil
	}
	return false, nil
}

// rabbitOnly are the keys (or ".*" prefixes) of rabbit.schema and its
// bundled plugins that Warren has no use for: clustering, Erlang and Mnesia
// tuning, message store internals, plugins Warren does not have. They are
// accepted with a warning so that a rabbitmq.conf loads unchanged.
var rabbitOnly = []string{
	"cluster_formation.*", "cluster_name", "cluster_partition_handling", "cluster_partition_handling.*",
	"cluster_keepalive_interval", "cluster_queue_limit", "mnesia_table_loading_retry_timeout",
	"mnesia_table_loading_retry_limit", "distribution.*", "erlang.*", "net_ticktime", "raft.*",
	"tcp_listen_options.*", "num_acceptors.*", "socket_writer.*", "reverse_dns_lookups",
	"collect_statistics", "collect_statistics_interval", "delegate_count", "channel_operation_timeout",
	"vm_memory_high_watermark_paging_ratio", "vm_memory_calculation_strategy", "memory_monitor_interval",
	"total_memory_available_override_value", "credit_flow_default_credit", "credit_flow_default_credit.*",
	"msg_store_index_module", "msg_store_file_size_limit", "msg_store_credit_disc_bound",
	"queue_index_embed_msgs_below", "queue_index_max_journal_entries", "backing_queue_module",
	"lazy_queue_explicit_gc_run_operation_threshold", "queue_explicit_gc_run_operation_threshold",
	"background_gc_enabled", "background_gc_target_interval", "writer_gc_threshold",
	"mirroring_sync_batch_size", "mirroring_flow_control", "ha_promote_on_shutdown", "ha_promote_on_failure",
	"queue_master_locator", "queue_leader_locator", "default_queue_type", "classic_queue.*", "quorum_queue.*",
	"stream.*", "deprecated_features.*", "proxy_protocol", "auth_backends.*", "auth_ldap.*", "auth_http.*",
	"auth_cache.*", "password_hashing_module", "trust_store.*",
	"log.file.rotation.*", "log.console.formatter.*", "log.file.formatter.*", "log.syslog", "log.syslog.*",
	"log.exchange", "log.exchange.*", "log.connection.level", "log.channel.level", "log.mirroring.level",
	"log.queue.level", "log.federation.level", "log.upgrade.level", "log.ra.level", "log.default.level",
	"log.prelaunch.level", "log.feature_flags.level",
	"management.rates_mode", "management.sample_retention_policies.*", "management.http_log_dir",
	"management.path_prefix", "management.cors.*", "management.csp.*", "management.hsts.*",
	"management.tcp.*", "management.disable_stats", "management.enable_queue_totals",
	"management.headers.*", "management.oauth_*", "management.login_session_timeout",
	"management_agent.*", "prometheus.*", "mqtt.*", "stomp.*", "web_mqtt.*", "web_stomp.*",
	"federation.*", "shovel.*", "consistent_hash_exchange.*", "peer_discovery_*",
	"cluster_formation", "vhost_restart_strategy", "channel_interceptor.*", "channel_max_per_node",
	"cluster_exchange_limit", "cluster_tags.*", "node_tags.*", "consumer_max_per_channel",
	"credential_validator.*", "default_policies.*", "default_users.*", "http_dispatch.*",
	"initial_frame_max", "link_max_per_session", "session_max_per_connection", "log.user.*",
	"management.credential_encryption_secret", "management.definitions.*", "management.http.*",
	"metadata_store.*", "motd_file", "product.*",
	// Definitions over HTTPS (definitions.import_backend = https) and the
	// hash skip_if_unchanged compares with: not built.
	"definitions.https.*", "definitions.tls.*", "definitions.hashing.algorithm",
	// The rest of the schemas of RabbitMQ 3.10.8 and its bundled plugins
	// (testdata/rabbitmq-3.10.8-schema-keys.txt): Erlang VM and
	// per-category log sinks, cowboy and UAA options, old-style
	// `ssl_options = none`.
	"default_worker_pool_size", "hipe_compile", "message_store_shutdown_timeout",
	"mirroring_sync_max_throughput", "ssl_allow_poodle_attack", "sysmon_handler.*",
	"ssl_options", "tcp_listen_options",
	"log.channel.*", "log.connection.*", "log.federation.*", "log.mirroring.*", "log.queue.*",
	"log.ra.*", "log.upgrade.*", "log.default.*", "log.console.color_esc_seqs.*",
	"log.console.use_colors", "log.console.stdio", "log.journald", "log.journald.*",
	"management.db_cache_multiplier", "management.disable_basic_auth", "management.enable_uaa",
	"management.uaa_*", "management.listener.server.*", "management.listener.ssl_opts",
	"amqp1_0.*", "aws.*", "event_exchange.*",
}

// lookup finds the rule for key: an exact key first, then the longest
// matching prefix; ok is false for a key neither Warren nor the list of
// RabbitMQ-only keys knows.
func lookup(key string) (r rule, suffix string, ok bool) {
	best := -1
	for _, cand := range rules {
		if cand.pattern == key {
			return cand, "", true
		}
		if p, wild := strings.CutSuffix(cand.pattern, ".*"); wild && strings.HasPrefix(key, p+".") && len(p) > best {
			r, suffix, best = cand, key[len(p)+1:], len(p)
		}
	}
	if best >= 0 {
		return r, suffix, true
	}
	for _, p := range rabbitOnly {
		prefix, wild := strings.CutSuffix(p, ".*")
		if p == key || wild && strings.HasPrefix(key, prefix+".") ||
			strings.HasSuffix(p, "_*") && strings.HasPrefix(key, strings.TrimSuffix(p, "*")) {
			return rule{pattern: p, status: ignored}, "", true
		}
	}
	return rule{}, "", false
}
