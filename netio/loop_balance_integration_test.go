package netio_test

import (
	"net"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/warrenmq/warren/netio"
)

// A burst of connections is spread evenly over the event loops. gnet counts
// a loop's connections only once the loop has taken them in, so without
// waiting for that a burst piled onto one loop (here up to 64 of 64; in a
// 32-publisher/32-consumer run one loop took 27 consumers, the other 24
// publishers), and publishers got up to 11x one another's throughput.
func TestConnectBurstSpreadsOverLoops(t *testing.T) {
	srv, u := startServer(t, netio.Config{Heartbeat: 60, Loops: 2})
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	addr := pu.Host

	const n = 64
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
	})
	var spread []int
	deadline := time.Now().Add(20 * time.Second)
	for {
		spread = netio.LoopSpread(srv)
		total := 0
		for _, k := range spread {
			total += k
		}
		if total == n || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("spread %v", spread)
	if len(spread) < 2 || slices.Min(spread) < n*7/16 {
		t.Fatalf("%d connections over 2 loops: %v, want at least %d on each", n, spread, n*7/16)
	}
}
