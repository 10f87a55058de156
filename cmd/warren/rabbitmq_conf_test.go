//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
	conf := filepath.Join(t.TempDir(), "rabbitmq.conf")
	if err := os.WriteFile(conf, []byte(strings.ReplaceAll(string(text), "testdata/tls", abs)), 0o644); err != nil {
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
		t.Fatalf("RabbitMQ refuses testdata/rabbitmq.conf:\n%s", out)
	}
}
