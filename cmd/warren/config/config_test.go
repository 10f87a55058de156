package config

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func read(t *testing.T, text string) *Loaded {
	t.Helper()
	l, err := Read("test.conf", strings.NewReader(text))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return l
}

func TestParseSyntax(t *testing.T) {
	got, err := Parse("x.conf", strings.NewReader(`
# a comment
   # an indented comment
heartbeat=30
default_pass = s3cret # trailing comment
default_user = 'a#b'   # quoted to hold a hash
log.file.level    =    debug
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Setting{{"heartbeat", "30", 4}, {"default_pass", "s3cret", 5}, {"default_user", "a#b", 6}, {"log.file.level", "debug", 7}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("setting %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestRefusedWithFileAndLine(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"heartbeat = 10\nno_such_key = 1\n", "test.conf:2: no_such_key: unknown key"},
		{"\n\nheartbeat = ten\n", `test.conf:3: heartbeat: "ten" is not an integer`},
		{"heartbeat = 70000\n", "test.conf:1: heartbeat: 70000 is out of range [0, 65535]"},
		{"frame_max = 0\n", "test.conf:1: frame_max: 0 is out of range [4096, 4294967295]"},
		{"just words\n", "test.conf:1: not a `key = value` setting"},
		{"include /etc/x/*.conf\n", "test.conf:1: include directives are not supported"},
		{"listeners.tcp.default = localhost:5672\n", `test.conf:1: listeners.tcp.default: "localhost" is not an IP address`},
		{"listeners.tcp.unix = unix:/run/r.sock:0\n", "unix socket listeners are not supported"},
		{"disk_free_limit.absolute = 2 furlongs\n", `test.conf:1: disk_free_limit.absolute: "2 furlongs" is not a size`},
		{"ssl_options.verify = maybe\n", `ssl_options.verify: "maybe" is not one of verify_peer, verify_none`},
		{"ssl_options.certfile = /nonexistent/cert.pem\n", "test.conf:1: ssl_options.certfile: cannot read /nonexistent/cert.pem: no such file or directory"},
		{"management.ssl.keyfile = /nonexistent/key.pem\n", "cannot read /nonexistent/key.pem"},
		{"ssl_options.nonsense = 1\n", `unknown TLS option "nonsense"`},
		{"loopback_users.guest = yes\n", `"yes" is not true or false`},
		{"log.console.level = loud\n", `"loud" is not a log level`},
		{"default_user = \n", "test.conf:1: default_user: missing value"},
		{"bad..key = 1\n", "test.conf:1: bad..key: empty word in a dotted key"},
		{"listeners.tcp = none\n", "no AMQP listener"},
		{"warren.datadir = /x\n", "unknown key (did you mean warren.data_dir?)"},
		{"handshake_timeout = 0\n", "0 is not a timeout"},
		{"default_permissions.write = (\n", `test.conf:1: default_permissions.write: "(" is not a regular expression`},
		{"load_definitions = /nonexistent/defs.json\n", "test.conf:1: load_definitions: cannot read /nonexistent/defs.json: no such file or directory"},
		{"load_definitions = testdata/rabbitmq-conf-example-keys.txt\n", "is not a definitions export"},
	} {
		_, err := Read("test.conf", strings.NewReader(c.text))
		var ce *Error
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: got %v, want one line containing %q", c.text, err, c.want)
		}
	}
}

func TestValuesTakeEffect(t *testing.T) {
	l := read(t, `
listeners.tcp.local = 127.0.0.1:5673
listeners.tcp.local_v6 = ::1:5673
management.tcp.port = 15673
management.tcp.ip = 0.0.0.0
heartbeat = 0
frame_max = 65536
channel_max = 64
max_message_size = 1048576
handshake_timeout = 2500
default_user = admin
default_pass = p
default_user_tags.administrator = false
default_user_tags.monitoring = true
loopback_users.guest = false
loopback_users.admin = true
log.console.level = warning
log.file = /tmp/w.log
log.file.formatter = json
warren.data_dir = /var/lib/warren
warren.segment_size = 16MiB
warren.event_loops = 2
warren.fsync = false
warren.max_mappings = 1000
track_auth_attempt_source = true
ssl_handshake_timeout = 1500
`)
	c := l.Config
	if c.SSLHandshakeTimeout != 1500*time.Millisecond {
		t.Errorf("ssl_handshake_timeout %v, want 1.5s", c.SSLHandshakeTimeout)
	}
	if len(c.AMQP) != 2 || c.AMQP[0].Addr() != "127.0.0.1:5673" || c.AMQP[1].Addr() != "[::1]:5673" {
		t.Errorf("AMQP listeners %+v (the default must be replaced)", c.AMQP)
	}
	if c.Management.Addr() != "0.0.0.0:15673" {
		t.Errorf("management %s", c.Management.Addr())
	}
	if c.Heartbeat != 0 || c.FrameMax != 65536 || c.ChannelMax != 64 || c.MaxMessageSize != 1<<20 || c.HandshakeTimeout != 2500*time.Millisecond {
		t.Errorf("limits %+v", c)
	}
	if c.DefaultUser != "admin" || c.DefaultPass != "p" || strings.Join(c.DefaultUserTags, ",") != "monitoring" {
		t.Errorf("user %q/%q tags %v", c.DefaultUser, c.DefaultPass, c.DefaultUserTags)
	}
	if c.LoopbackUsers["guest"] || !c.LoopbackUsers["admin"] {
		t.Errorf("loopback users %v", c.LoopbackUsers)
	}
	if c.Log.ConsoleLevel != "warn" || c.Log.File != "/tmp/w.log" || c.Log.FileFormatter != "json" || c.Log.FileLevel != "info" {
		t.Errorf("log %+v", c.Log)
	}
	if c.DataDir != "/var/lib/warren" || c.SegmentSize != 16<<20 || c.EventLoops != 2 || !c.NoFsync {
		t.Errorf("warren.* %q %d %d no fsync %v", c.DataDir, c.SegmentSize, c.EventLoops, c.NoFsync)
	}
	if c.MaxMappings != 1000 {
		t.Errorf("warren.max_mappings %d, want 1000", c.MaxMappings)
	}
	if !c.TrackAuthAttemptSource {
		t.Error("track_auth_attempt_source = true not taken")
	}
	if len(l.NotInEffect) != 0 {
		t.Errorf("not in effect: %v, want none (Warren serves every listener)", l.NotInEffect)
	}
}

func TestSizes(t *testing.T) {
	for v, want := range map[string]int64{
		"1000": 1000, "2GB": 2e9, "2 GB": 2e9, "50MB": 50e6, "1kB": 1000,
		"1GiB": 1 << 30, "1G": 1 << 30, "512MiB": 512 << 20, "4k": 4096, "3kiB": 3072,
	} {
		got, err := parseSize(v)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", v, got, err, want)
		}
	}
	for _, v := range []string{"", "GB", "-1GB", "1.5GB", "1 PB", "9999999999999999GB"} {
		if _, err := parseSize(v); err == nil {
			t.Errorf("parseSize(%q) accepted", v)
		}
	}
}

func TestListeners(t *testing.T) {
	for v, want := range map[string]string{
		"5672": ":5672", "0.0.0.0:5672": "0.0.0.0:5672", "::1:5672": "[::1]:5672",
		"[::]:5672": "[::]:5672", "10.10.10.10:5673": "10.10.10.10:5673",
	} {
		l, err := parseListener(v)
		if err != nil || l.Addr() != want {
			t.Errorf("parseListener(%q) = %s, %v; want %s", v, l.Addr(), err, want)
		}
	}
	for _, v := range []string{"70000", "host:5672", "1.2.3.4:", "1.2.3.4:x", ""} {
		if _, err := parseListener(v); err == nil {
			t.Errorf("parseListener(%q) accepted", v)
		}
	}
}

// Features that do not exist yet are carried and reported, and values that
// ask for what Warren does anyway are not reported.
func TestNotYetInEffect(t *testing.T) {
	l := read(t, `
default_vhost = /
default_permissions.configure = .*
default_permissions.read = ^amq\..*
listeners.ssl.default = 5671
ssl_options.cacertfile = testdata/definitions.json
# (any readable file will do here: checking its PEM is the TLS feature's job)
ssl_options.honor_cipher_order = true
vm_memory_high_watermark.absolute = 2GB
disk_free_limit.relative = 1.5
consumer_timeout = 900000
load_definitions = testdata/definitions.json
cluster_formation.peer_discovery_backend = classic_config
cluster_name = prod
`)
	keys := strings.Join(l.NotInEffect, " ")
	for _, k := range []string{"ssl_options.honor_cipher_order (line 8)"} {
		if !strings.Contains(keys, k) {
			t.Errorf("%s not reported as not in effect: %v", k, l.NotInEffect)
		}
	}
	for _, k := range []string{"default_vhost", "default_permissions.configure", "default_permissions.read", "consumer_timeout", "load_definitions", "listeners.ssl.default", "ssl_options.cacertfile", "vm_memory_high_watermark.absolute", "disk_free_limit.relative"} {
		if strings.Contains(keys, k) {
			t.Errorf("%s reported although Warren does it: %v", k, l.NotInEffect)
		}
	}
	if len(l.Ignored) != 2 || !strings.HasPrefix(l.Ignored[0], "cluster_formation.peer_discovery_backend") {
		t.Errorf("ignored %v", l.Ignored)
	}
	c := l.Config
	if c.MemoryHighWatermark.Absolute != 2e9 || c.DiskFreeLimit.Relative != 1.5 || c.ConsumerTimeout != 15*time.Minute ||
		c.LoadDefinitions != "testdata/definitions.json" || c.SSLOptions["cacertfile"] != "testdata/definitions.json" ||
		len(c.TLS) != 1 || c.TLS[0].Port != 5671 || c.DefaultPermissions.Read != `^amq\..*` {
		t.Errorf("carried values %+v", c)
	}
}

// Every key RabbitMQ's own rabbitmq.conf.example shows (extracted from
// deps/rabbit/docs/rabbitmq.conf.example) is known: acted on, carried or
// ignored with a warning, never refused as unknown.
func TestRabbitMQExampleKeysKnown(t *testing.T) {
	f, err := os.Open("testdata/rabbitmq-conf-example-keys.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		if _, _, ok := lookup(sc.Text()); !ok {
			t.Errorf("RabbitMQ key %s is unknown to Warren", sc.Text())
		}
	}
	if n < 300 {
		t.Fatalf("only %d keys read", n)
	}
}

// Every key the schemas of RabbitMQ 3.10.8 and its bundled plugins map
// (815; `$name` variables as x1) is known: in effect, carried or listed as
// ignored, never refused as unknown. Generated with
//
//	for f in $(git ls-tree -r --name-only v3.10.8 deps | grep 'priv/schema/.*schema$'); do
//	  git show v3.10.8:$f | grep -o '{mapping, "[^"]*"' | sed 's/{mapping, "//; s/"$//'
//	done | sed 's/\$[a-z_]*/x1/g' | sort -u
func TestRabbitMQ3108SchemaKeysKnown(t *testing.T) {
	data, err := os.ReadFile("testdata/rabbitmq-3.10.8-schema-keys.txt")
	if err != nil {
		t.Fatal(err)
	}
	keys := strings.Fields(string(data))
	if len(keys) < 800 {
		t.Fatalf("only %d keys read", len(keys))
	}
	for _, k := range keys {
		if _, _, ok := lookup(k); !ok {
			t.Errorf("RabbitMQ 3.10.8 key %s is unknown to Warren", k)
		}
	}
}

func TestDefaultsWithoutFile(t *testing.T) {
	l := read(t, "# nothing but a comment\n")
	if l.AMQP[0].Addr() != "127.0.0.1:5672" || l.Management.Addr() != "127.0.0.1:15672" || l.DataDir != "./data" ||
		!l.LoopbackUsers["guest"] || l.DefaultUser != "guest" || len(l.NotInEffect)+len(l.Ignored) != 0 {
		t.Errorf("defaults %+v", l)
	}
}

// consumer_timeout and connection_max (RabbitMQ's keys) are in effect.
func TestLimitKeys(t *testing.T) {
	l := read(t, "consumer_timeout = 900000\nconnection_max = 500\n")
	if l.Config.ConsumerTimeout != 900*time.Second || l.Config.ConnectionMax != 500 {
		t.Fatalf("consumer_timeout %v, connection_max %d", l.Config.ConsumerTimeout, l.Config.ConnectionMax)
	}
	if l = read(t, "connection_max = infinity\n"); l.Config.ConnectionMax != 0 {
		t.Fatalf("connection_max = infinity: %d, want 0 (no limit)", l.Config.ConnectionMax)
	}
}

// The TLS and EXTERNAL keys, a second AMQPS listener among them, are in
// effect and carried for cmd/warren; options Go's TLS has no knob for are
// reported.
func TestTLSKeysInEffect(t *testing.T) {
	l := read(t, `
listeners.ssl.default = 127.0.0.1:5671
listeners.ssl.other = 5681
ssl_options.certfile = testdata/definitions.json
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
ssl_options.versions.1 = tlsv1.3
ssl_options.reuse_sessions = true
management.ssl.port = 15671
management.ssl.ip = 127.0.0.1
auth_mechanisms.1 = PLAIN
auth_mechanisms.2 = AMQPLAIN
auth_mechanisms.3 = EXTERNAL
ssl_cert_login_from = subject_alternative_name
ssl_cert_login_san_type = email
ssl_cert_login_san_index = 1
`)
	if got := strings.Join(l.NotInEffect, " | "); !strings.Contains(got, "ssl_options.reuse_sessions") || len(l.NotInEffect) != 1 {
		t.Errorf("not in effect: %v", l.NotInEffect)
	}
	c := l.Config
	if c.TLS[0].Addr() != "127.0.0.1:5671" || c.SSLOptions["verify"] != "verify_peer" || c.SSLOptions["versions.1"] != "tlsv1.3" ||
		c.ManagementTLS["port"] != "15671" || !c.HasMechanism("EXTERNAL") ||
		c.CertLogin != (CertLogin{From: "subject_alternative_name", SANType: "email", SANIndex: 1}) {
		t.Errorf("carried %+v", c)
	}
	if d := Default().CertLogin; d.From != "distinguished_name" || d.SANType != "dns" {
		t.Errorf("default cert login %+v, want RabbitMQ's distinguished_name", d)
	}
	only := read(t, "auth_mechanisms.10 = AMQPLAIN\nauth_mechanisms.9 = EXTERNAL\nauth_mechanisms.x = PLAIN\n")
	if len(only.NotInEffect) != 0 || strings.Join(only.Mechanisms(), " ") != "EXTERNAL AMQPLAIN PLAIN" {
		t.Errorf("a list without PLAIN first: %v, not in effect %v", only.Mechanisms(), only.NotInEffect)
	}
	if d := Default(); d.Mechanisms() != nil {
		t.Errorf("default mechanisms %v, want nil (RabbitMQ's default)", d.Mechanisms())
	}
}

// rabbitmq_prometheus's listener keys are in effect; its other keys are
// RabbitMQ-only and listed as ignored.
func TestPrometheusKeys(t *testing.T) {
	l := read(t, "prometheus.tcp.port = 15693\nprometheus.tcp.ip = 0.0.0.0\nprometheus.return_per_object_metrics = true\n")
	if l.Config.Prometheus.Port != 15693 || l.Config.Prometheus.Host != "0.0.0.0" {
		t.Fatalf("prometheus listener %+v", l.Config.Prometheus)
	}
	if len(l.NotInEffect) != 0 || len(l.Ignored) != 1 || !strings.HasPrefix(l.Ignored[0], "prometheus.return_per_object_metrics") {
		t.Fatalf("not in effect %v, ignored %v", l.NotInEffect, l.Ignored)
	}
	if l := read(t, "prometheus.tcp.port = 0\n"); l.Config.Prometheus.Port != 0 {
		t.Fatalf("prometheus.tcp.port = 0 should disable it: %+v", l.Config.Prometheus)
	}
}

// RabbitMQ 3.10's newer definitions keys: definitions.local.path with the
// local_filesystem backend is load_definitions; what Warren does not
// build (an HTTPS source, skip_if_unchanged = true) is reported, never
// refused, and bad values are.
func TestDefinitionsKeys(t *testing.T) {
	l := read(t, "definitions.import_backend = local_filesystem\ndefinitions.local.path = testdata/definitions.json\ndefinitions.skip_if_unchanged = false\n")
	if l.Config.LoadDefinitions != "testdata/definitions.json" || len(l.NotInEffect) != 0 || len(l.Ignored) != 0 {
		t.Errorf("local import: load %q, not in effect %v, ignored %v", l.Config.LoadDefinitions, l.NotInEffect, l.Ignored)
	}
	l = read(t, "definitions.import_backend = https\ndefinitions.https.url = https://example.com/defs.json\ndefinitions.tls.verify = verify_peer\ndefinitions.skip_if_unchanged = true\ndefinitions.hashing.algorithm = sha256\n")
	if l.Config.LoadDefinitions != "" {
		t.Errorf("an HTTPS source set load_definitions %q", l.Config.LoadDefinitions)
	}
	if got := strings.Join(l.NotInEffect, " "); !strings.Contains(got, "definitions.import_backend (line 1)") || !strings.Contains(got, "definitions.skip_if_unchanged (line 4)") {
		t.Errorf("not in effect %v, want import_backend and skip_if_unchanged", l.NotInEffect)
	}
	if len(l.Ignored) != 3 {
		t.Errorf("ignored %v, want the https, tls and hashing keys", l.Ignored)
	}
	for _, c := range []struct{ text, want string }{
		{"definitions.import_backend = ftp\n", `test.conf:1: definitions.import_backend: "ftp" is not a definitions import backend`},
		{"definitions.local.path = /nonexistent/defs.json\n", "test.conf:1: definitions.local.path: cannot read /nonexistent/defs.json"},
		{"definitions.skip_if_unchanged = maybe\n", `test.conf:1: definitions.skip_if_unchanged: "maybe" is not true or false`},
	} {
		if _, err := Read("test.conf", strings.NewReader(c.text)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.text, err, c.want)
		}
	}
}

// management.listener.ssl, the older HTTPS switch, is reported when it
// asks for HTTPS (management.ssl.* is what Warren serves), and its
// ssl_opts are validated like ssl_options.
func TestManagementListenerSSLReported(t *testing.T) {
	l := read(t, "management.listener.port = 15671\nmanagement.listener.ssl = true\nmanagement.listener.ssl_opts.verify = verify_none\n")
	if got := strings.Join(l.NotInEffect, " "); !strings.Contains(got, "management.listener.ssl (line 2)") || !strings.Contains(got, "management.listener.ssl_opts.verify (line 3)") {
		t.Errorf("not in effect %v", l.NotInEffect)
	}
	if l := read(t, "management.listener.ssl = false\n"); len(l.NotInEffect) != 0 {
		t.Errorf("ssl = false reported: %v", l.NotInEffect)
	}
	if _, err := Read("t.conf", strings.NewReader("management.listener.ssl_opts.verify = maybe\n")); err == nil || !strings.Contains(err.Error(), "t.conf:1:") {
		t.Errorf("bad ssl_opts value: %v", err)
	}
}
