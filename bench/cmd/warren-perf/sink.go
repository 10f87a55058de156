package main

import (
	"flag"
	"fmt"
	"net"
	"time"

	"github.com/warrenmq/warren/bench/sink"
)

// sinkMain runs the null broker for a bounded time, to measure the clients
// themselves: warren-perf sink -listen 127.0.0.1:0 -duration 60s.
func sinkMain(args []string) int {
	fs := flag.NewFlagSet("warren-perf sink", flag.ContinueOnError)
	addr := fs.String("listen", "127.0.0.1:0", "loopback address to listen on (port 0 = any free port, printed)")
	d := fs.Duration("duration", time.Minute, "serve this long, then exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fail(1, "%v", err)
	}
	var s sink.Server
	time.AfterFunc(*d, func() { ln.Close() })
	fmt.Printf("sink listening on %s for %s\n", ln.Addr(), *d)
	if err := s.Serve(ln); err != nil {
		return fail(1, "%v", err)
	}
	fmt.Printf("sink discarded %d publishes\n", s.Published.Load())
	return 0
}
