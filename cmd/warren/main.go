// Command warren runs the Warren AMQP 0-9-1 broker.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"

	"net/http"
	_ "net/http/pprof" // served only with -pprof
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/mgmt"
	"github.com/warrenmq/warren/netio"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "warren:", err)
		var usage usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a refused command line or config file: exit status 2, as
// for a bad flag, so that a supervisor does not retry what cannot start.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func run(args []string) error {
	f, err := parseFlags(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return usageError{err}
	}
	if f.fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "warren: unexpected argument %q (every setting is a -flag)\n", f.fs.Arg(0))
		f.fs.Usage()
		os.Exit(2)
	}
	if f.showVersion {
		fmt.Println(version())
		return nil
	}
	loaded, err := f.settings()
	if err != nil {
		return usageError{err}
	}
	cfg := &loaded.Config
	logFile, err := setupLogging(cfg.Log, os.Stderr)
	if err != nil {
		return usageError{err}
	}
	if logFile != nil {
		defer logFile.Close()
	}
	if p := f.configPath(); p != "" {
		slog.Info("config file read", "file", p)
	}
	if len(loaded.NotInEffect) > 0 {
		slog.Warn("config: accepted, not yet in effect", "keys", strings.Join(loaded.NotInEffect, ", "))
	}
	if len(loaded.Ignored) > 0 {
		slog.Warn("config: RabbitMQ settings Warren ignores", "keys", strings.Join(loaded.Ignored, ", "))
	}
	tlsSet, err := f.tls.load(cfg, visited(f.fs))
	if err != nil {
		return usageError{err}
	}

	// Signals are caught from here on: a SIGHUP or SIGTERM sent as soon as
	// the start line appears must find the handler in place.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sig)

	start := time.Now()
	fdLimit, err := raiseFDLimit()
	if err != nil {
		slog.Warn("cannot raise the fd limit", "err", err, "fd_limit", fdLimit)
	}
	var defs []definitionsFile
	if cfg.LoadDefinitions != "" {
		if defs, err = readDefinitions(cfg.LoadDefinitions); err != nil {
			return usageError{err}
		}
	}
	applyMapBudget(cfg.MaxMappings)
	b, err := broker.Open(broker.Config{DataDir: cfg.DataDir, SegmentSize: cfg.SegmentSize, MaxMessageSize: cfg.MaxMessageSize, Users: users(cfg), DefaultVHost: cfg.DefaultVHost,
		DefinitionsToLoad: cfg.LoadDefinitions != "",
		SyncPolicy:        syncPolicy(cfg.NoFsync),
		DefaultLimits:     defaultLimits(cfg),
		Alarms: broker.AlarmConfig{
			MemoryRelative: cfg.MemoryHighWatermark.Relative, MemoryAbsolute: cfg.MemoryHighWatermark.Absolute,
			DiskRelative: cfg.DiskFreeLimit.Relative, DiskAbsolute: cfg.DiskFreeLimit.Absolute,
		}})
	if err != nil {
		return err
	}
	// Per-source login counts for the API and /metrics/detailed, on every port.
	b.AuthAttempts().SetTrackSource(cfg.TrackAuthAttemptSource)
	if err := importDefinitions(b, defs); err != nil {
		_ = b.Close()
		return usageError{err}
	}
	goMemLimit := applyGoMemoryLimit(cfg.GoMemoryLimit, b.Alarms().Status().MemoryLimit)
	amqpAddr := cfg.AMQP[0].Addr()
	srv := netio.NewServer(netio.Config{
		Addr:                amqpAddr,
		Heartbeat:           uint16(cfg.Heartbeat),
		NoHeartbeat:         cfg.Heartbeat == 0,
		Loops:               cfg.EventLoops,
		HandshakeTimeout:    cfg.HandshakeTimeout,
		TLSHandshakeTimeout: cfg.SSLHandshakeTimeout,
		FrameMax:            cfg.FrameMax,
		ChannelMax:          cfg.ChannelMax,
		CertLogin:           tlsSet.login,
		AuthMechanisms:      authMechanisms(cfg, tlsSet.login != nil),
		ConsumerTimeout:     cfg.ConsumerTimeout,
		ConnectionMax:       cfg.ConnectionMax,
	}, b)
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run() }()
	select {
	case <-srv.Ready():
	case err := <-runErr:
		_ = b.Close()
		return fmt.Errorf("amqp listener %s: %w", amqpAddr, err)
	}
	if bound, err := srv.Addr(); err == nil {
		amqpAddr = bound.String() // the port chosen when -amqp-port is 0
	}
	if err := serveMoreListeners(srv, cfg.AMQP[1:]); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
		_ = b.Close()
		return err
	}
	tlsCtx, stopTLSWatch := context.WithCancel(context.Background())
	defer stopTLSWatch()
	hss, err := tlsSet.serve(tlsCtx, srv, b)
	if err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
		_ = b.Close()
		return err
	}
	stopStream, streamAddr := startStream(cfg, b)
	defer stopStream()
	slog.Info("warren started", "amqp", amqpAddr, "stream", streamAddr, "data_dir", cfg.DataDir, "startup", time.Since(start).Round(time.Millisecond), "fd_limit", fdLimit, "go_memory_limit", goMemLimit)

	var hs *mgmt.Server
	if cfg.Management.Port != 0 {
		var bound net.Addr
		if a, err := srv.Addr(); err == nil {
			bound = a
		}
		hs, err = mgmt.ListenConfig(mgmt.Config{Addr: cfg.Management.Addr(), AMQP: bound, Version: netio.Version}, b)
		if err != nil {
			slog.Error("management listener", "err", err)
		} else {
			go func() { _ = hs.Serve() }()
			slog.Info("management listening", "http", hs.Addr().String())
		}
	}
	stopPrometheus := func(context.Context) {}
	if cfg.Prometheus.Port != 0 {
		stopPrometheus = mgmt.StartPrometheus(cfg.Prometheus.Addr(), b)
	}
	if cfg.Pprof != "" {
		go func() { slog.Error("pprof", "err", http.ListenAndServe(cfg.Pprof, nil)) }()
	}
	if err := sdNotify("READY=1"); err != nil {
		slog.Warn("cannot tell systemd the broker is ready", "err", err)
	}

	listenerErr := waitForShutdown(sig, runErr, logFile, tlsSet.reloader())
	_ = sdNotify("STOPPING=1")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if hs != nil {
		_ = hs.Shutdown(ctx)
	}
	if hss != nil {
		_ = hss.Shutdown(ctx)
	}

	stopPrometheus(ctx)
	stopStream()
	if err := srv.Stop(ctx); err != nil {
		slog.Warn("stopping listener", "err", err)
	}
	if err := b.Close(); err != nil {
		return fmt.Errorf("closing broker: %w", err)
	}
	if listenerErr != nil {
		// Not a requested shutdown: exit non-zero so that a supervisor with
		// Restart=on-failure starts the broker again.
		slog.Error("stopped after the amqp listener failed")
		return fmt.Errorf("amqp listener stopped: %w", listenerErr)
	}
	slog.Info("stopped")
	return nil
}

// waitForShutdown returns on SIGINT or SIGTERM, or when the AMQP listener
// stops. SIGHUP, which supervisors and logrotate send, must not kill the
// broker (its default action would): it reopens the log file if there is
// one (logrotate's postrotate) and reloads the TLS certificates if there
// are any (reload), and the log says what it did. Other settings are
// read once, at start. It returns why the listener stopped if it did so by
// itself (never nil then), or nil after a signal.
func waitForShutdown(sig <-chan os.Signal, runErr <-chan error, lf *logFile, reload func()) error {
	for {
		select {
		case s := <-sig:
			if s == syscall.SIGHUP {
				if reload != nil {
					reload()
				}
				hangup(lf, reload != nil)
				continue
			}
			slog.Info("shutting down", "signal", s.String())
			return nil
		case err := <-runErr:
			if err == nil {
				err = errors.New("listener returned without an error")
			}
			slog.Error("amqp listener stopped", "err", err)
			return err
		}
	}
}

func hangup(lf *logFile, reloaded bool) {
	if lf == nil && reloaded {
		return
	}
	if lf == nil {
		slog.Info("SIGHUP: nothing to reload (no log file; settings are read at start); still running")
		return
	}
	if err := lf.Reopen(); err != nil {
		slog.Error("SIGHUP: cannot reopen the log file; still writing the old one", "file", lf.path, "err", err)
		return
	}
	slog.Info("SIGHUP: log file reopened (settings are read at start); still running", "file", lf.path)
}
