package netio_test

import (
	"bufio"
	"context"
	"net"
	"testing"
	"time"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/netio"
)

// `warren -heartbeat 0` must offer 0 in connection.tune (heartbeats off
// unless the client asks), as RabbitMQ's heartbeat = 0 does; it used to be
// turned into the 60 s default.
func TestNoHeartbeatOffersZero(t *testing.T) {
	needLocal(t)
	for _, tc := range []struct {
		name string
		cfg  netio.Config
		want uint16
	}{
		{"disabled", netio.Config{Addr: "127.0.0.1:0", NoHeartbeat: true}, 0},
		{"default", netio.Config{Addr: "127.0.0.1:0"}, netio.DefaultHeartbeat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := broker.Open(broker.Config{DataDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			srv := netio.NewServer(tc.cfg, b)
			errc := make(chan error, 1)
			go func() { errc <- srv.Run() }()
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = srv.Stop(ctx)
				<-errc
				_ = b.Close()
			})
			select {
			case <-srv.Ready():
			case err := <-errc:
				t.Fatalf("server.Run: %v", err)
			case <-time.After(60 * time.Second):
				t.Fatal("server not ready after 60s")
			}
			addr, err := srv.Addr()
			if err != nil {
				t.Fatal(err)
			}
			nc, err := net.DialTimeout("tcp", addr.String(), waitTimeout)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			_ = nc.SetDeadline(time.Now().Add(3 * waitTimeout))
			r := &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
			if _, _, hb := r.handshake(handshakeOpts{}); hb != tc.want {
				t.Errorf("connection.tune heartbeat %d, want %d", hb, tc.want)
			}
		})
	}
}
