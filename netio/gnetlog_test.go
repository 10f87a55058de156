package netio

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/panjf2000/gnet/v2/pkg/logging"
)

var _ logging.Logger = gnetLogger{}

// gnet's lines come out through slog, tagged, filtered by slog's level.
func TestGnetLoggerWritesThroughSlog(t *testing.T) {
	var buf bytes.Buffer
	g := gnetLogger{l: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})).With("component", "gnet")}
	g.Debugf("hidden %d", 1)
	g.Infof("engine up on %s", "tcp://127.0.0.1:1")
	g.Errorf("poller: %v", "boom")
	out := buf.String()
	if strings.Contains(out, "hidden") {
		t.Errorf("debug line logged at info level: %s", out)
	}
	for _, want := range []string{
		`level=INFO msg="engine up on tcp://127.0.0.1:1" component=gnet`,
		`level=ERROR msg="poller: boom" component=gnet`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
}
