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
	"strconv"
	"syscall"
	"time"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/mgmt"
	"github.com/warrenmq/warren/netio"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "warren:", err)
		os.Exit(1)
	}
}

func run() error {
	bind := flag.String("bind", "127.0.0.1", "address to listen on (0.0.0.0 for all)")
	amqpPort := flag.Int("amqp-port", 5672, "AMQP 0-9-1 port")
	httpPort := flag.Int("http-port", 15672, "management HTTP port (0 disables)")
	dataDir := flag.String("data-dir", "./data", "where queues and definitions are stored")
	logLevel := flag.String("log-level", "info", "debug, info, warn or error")
	segSize := flag.Int64("segment-size", 8<<20, "bytes per queue segment file")
	maxMsg := flag.Int64("max-message-size", broker.DefaultMaxMessageSize, "largest message body accepted, bytes")
	heartbeat := flag.Uint("heartbeat", netio.DefaultHeartbeat, "heartbeat seconds offered to clients (0 disables)")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address (e.g. 127.0.0.1:6060)")
	loops := flag.Int("loops", 0, "event loops (0: one per CPU)")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "warren: unexpected argument %q (every setting is a -flag)\n", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	}
	if *showVersion {
		fmt.Println(version())
		return nil
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("bad -log-level: %w", err)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))

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
	b, err := broker.Open(broker.Config{DataDir: *dataDir, SegmentSize: *segSize, MaxMessageSize: *maxMsg, Users: broker.DefaultUsers()})
	if err != nil {
		return err
	}
	amqpAddr := net.JoinHostPort(*bind, strconv.Itoa(*amqpPort))
	srv := netio.NewServer(netio.Config{Addr: amqpAddr, Heartbeat: uint16(*heartbeat), NoHeartbeat: *heartbeat == 0, Loops: *loops}, b)
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
	slog.Info("warren started", "amqp", amqpAddr, "data_dir", *dataDir, "startup", time.Since(start).Round(time.Millisecond), "fd_limit", fdLimit)

	var hs *mgmt.Server
	if *httpPort != 0 {
		hs, err = mgmt.Listen(net.JoinHostPort(*bind, strconv.Itoa(*httpPort)), b)
		if err != nil {
			slog.Error("management listener", "err", err)
		} else {
			go func() { _ = hs.Serve() }()
			slog.Info("management listening", "http", hs.Addr().String())
		}
	}
	if *pprofAddr != "" {
		go func() { slog.Error("pprof", "err", http.ListenAndServe(*pprofAddr, nil)) }()
	}

	listenerErr := waitForShutdown(sig, runErr)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if hs != nil {
		_ = hs.Shutdown(ctx)
	}
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
// stops. SIGHUP, which supervisors and logrotate send to ask for a reload,
// must not kill the broker (its default action would): every setting is a
// flag and logs go to stderr, so there is nothing to reopen, and the log
// says so. It returns why the listener stopped if it did so by itself
// (never nil then), or nil after a signal.
func waitForShutdown(sig <-chan os.Signal, runErr <-chan error) error {
	for {
		select {
		case s := <-sig:
			if s == syscall.SIGHUP {
				slog.Info("SIGHUP: nothing to reload (settings are flags, logs go to stderr); still running")
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
