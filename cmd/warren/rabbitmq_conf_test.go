//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warrenmq/warren/cmd/warren/config"
)

// The example config is one RabbitMQ itself accepts: its own validator
// (cuttlefish with the rabbit and management schemas) maps it without an
// error. Runs where the RabbitMQ the integration tests use is reachable
// (WARREN_IT_URL set and rabbitmqctl on PATH); rabbitmqctl eval only reads.
func TestRabbitMQAcceptsExampleConfig(t *testing.T) {
	if os.Getenv("WARREN_IT_URL") == "" {
		t.Skip("WARREN_IT_URL unset: no RabbitMQ to validate testdata/rabbitmq.conf with")
	}
	ctl, err := exec.LookPath("rabbitmqctl")
	if err != nil {
		t.Skip("rabbitmqctl not on PATH")
	}
	text, err := os.ReadFile("testdata/rabbitmq.conf")
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs("testdata/tls")
	if err != nil {
		t.Fatal(err)
	}
	// The node reads the file and the TLS files from its own working
	// directory: give it absolute paths, the only change.
	rabbitValidates(t, ctl, strings.ReplaceAll(string(text), "testdata/tls", abs), "testdata/rabbitmq.conf")
}

// RabbitMQ 3.10's newer definitions keys and ssl_handshake_timeout, as
// Warren reads them, are keys RabbitMQ accepts with these values.
func TestRabbitMQAcceptsDefinitionsKeys(t *testing.T) {
	if os.Getenv("WARREN_IT_URL") == "" {
		t.Skip("WARREN_IT_URL unset: no RabbitMQ to validate the keys with")
	}
	ctl, err := exec.LookPath("rabbitmqctl")
	if err != nil {
		t.Skip("rabbitmqctl not on PATH")
	}
	data, err := os.ReadFile("testdata/definitions.json")
	if err != nil {
		t.Fatal(err)
	}
	defs := filepath.Join(t.TempDir(), "definitions.json") // file_accessible: the rabbitmq user must read it
	if err := os.WriteFile(defs, data, 0o644); err != nil {
		t.Fatal(err)
	}
	text := "definitions.import_backend = local_filesystem\ndefinitions.local.path = " + defs +
		"\ndefinitions.skip_if_unchanged = false\nssl_handshake_timeout = 5000\n"
	rabbitValidates(t, ctl, text, "definitions keys")
	// Warren reads the same text as load_definitions, every key in effect.
	l, err := config.Read("defs.conf", strings.NewReader(text))
	if err != nil || l.Config.LoadDefinitions != defs || len(l.NotInEffect)+len(l.Ignored) != 0 {
		t.Fatalf("Warren reads %q as %+v (%v)", text, l, err)
	}
}

// rabbitValidates runs RabbitMQ's own validator (cuttlefish with the
// rabbit, management and prelaunch schemas) over text; rabbitmqctl eval
// only reads.
func rabbitValidates(t *testing.T, ctl, text, what string) {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "rabbitmq.conf")
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// The node runs as the rabbitmq user: let it into t.TempDir's 0700 dirs.
	for d := filepath.Dir(conf); d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		_ = os.Chmod(d, 0o755)
	}
	expr := `Lib = code:lib_dir(rabbit), Plugins = filename:dirname(Lib),
Schemas = filelib:wildcard(Plugins ++ "/{rabbit,rabbitmq_management,rabbitmq_prelaunch}-*/priv/schema/*.schema"),
case cuttlefish_generator:map(cuttlefish_schema:files(Schemas), cuttlefish_conf:file("` + conf + `")) of
  {error, _, E} -> {refused, E};
  _ -> accepted
end.`
	out, err := exec.Command(ctl, "eval", expr).CombinedOutput()
	if err != nil {
		t.Fatalf("rabbitmqctl eval: %v\n%s", err, out)
	}
	if strings.TrimSpace(string(out)) != "accepted" {
		t.Fatalf("RabbitMQ refuses %s:\n%s", what, out)
	}
}
