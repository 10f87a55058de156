package netio

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/warrenmq/warren/netio/internal/gnetenv"
)

// gnetLogger is gnet's logging.Logger writing through slog, so gnet's lines
// share the process's format and -log-level.
type gnetLogger struct{ l *slog.Logger }

func newGnetLogger() gnetLogger {
	for _, v := range gnetenv.Ignored {
		slog.Warn("ignoring gnet environment variable: gnet logs through -log-level", "var", v)
	}
	return gnetLogger{l: slog.Default().With("component", "gnet")}
}

func (g gnetLogger) logf(level slog.Level, format string, args []any) {
	if !g.l.Enabled(context.Background(), level) {
		return
	}
	g.l.Log(context.Background(), level, fmt.Sprintf(format, args...))
}

func (g gnetLogger) Debugf(format string, args ...any) { g.logf(slog.LevelDebug, format, args) }
func (g gnetLogger) Infof(format string, args ...any)  { g.logf(slog.LevelInfo, format, args) }
func (g gnetLogger) Warnf(format string, args ...any)  { g.logf(slog.LevelWarn, format, args) }
func (g gnetLogger) Errorf(format string, args ...any) { g.logf(slog.LevelError, format, args) }

// Fatalf keeps the contract of gnet's Logger (zap's Fatalf): log, then exit.
func (g gnetLogger) Fatalf(format string, args ...any) {
	g.l.Error(fmt.Sprintf(format, args...), "fatal", true)
	os.Exit(1)
}
