package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/warrenmq/warren/cmd/warren/config"
)

// logFile is the log.file destination. SIGHUP reopens it, so that
// logrotate can move the file away and have Warren write a new one.
type logFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

func openLogFile(path string) (*logFile, error) {
	l := &logFile{path: path}
	return l, l.Reopen()
}

func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Write(p)
}

// Reopen opens the path afresh and closes the file written so far; if the
// path cannot be opened, logging goes on into the old file.
func (l *logFile) Reopen() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := l.f
	l.f = f
	l.mu.Unlock()
	if old != nil {
		return old.Close()
	}
	return nil
}

func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// setupLogging builds the default logger from log.*: the console (stderr)
// and the optional file, each with its level and formatter. It returns the
// file (nil without one) for SIGHUP to reopen.
func setupLogging(c config.Log, stderr io.Writer) (*logFile, error) {
	var hs []slog.Handler
	if c.Console && c.ConsoleLevel != "none" {
		h, err := newHandler(stderr, c.ConsoleLevel, c.ConsoleFormatter)
		if err != nil {
			return nil, err
		}
		hs = append(hs, h)
	}
	var lf *logFile
	if c.File != "" && c.FileLevel != "none" {
		path := c.File
		if !filepath.IsAbs(path) && c.Dir != "" {
			path = filepath.Join(c.Dir, path)
		}
		var err error
		if lf, err = openLogFile(path); err != nil {
			return nil, errors.New("log.file: " + err.Error())
		}
		h, err := newHandler(lf, c.FileLevel, c.FileFormatter)
		if err != nil {
			return nil, err
		}
		hs = append(hs, h)
	}
	var h slog.Handler = fanout(hs)
	if len(hs) == 1 {
		h = hs[0]
	}
	slog.SetDefault(slog.New(h))
	return lf, nil
}

func newHandler(w io.Writer, level, formatter string) (slog.Handler, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, err
	}
	o := &slog.HandlerOptions{Level: l}
	if formatter == "json" {
		return slog.NewJSONHandler(w, o), nil
	}
	return slog.NewTextHandler(w, o), nil
}

// fanout sends each record to every handler that wants its level; with no
// handler at all, nothing is logged.
type fanout []slog.Handler

func (f fanout) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range f {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range f {
		if h.Enabled(ctx, r.Level) {
			errs = append(errs, h.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (f fanout) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (f fanout) WithGroup(name string) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(name)
	}
	return out
}
