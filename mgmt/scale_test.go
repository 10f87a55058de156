package mgmt

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestScale measures the management API over many queues, for
// docs/BENCHMARKS.md: WARREN_MGMT_SCALE=10000 go test -run Scale ./mgmt
// (in-process Warren), or with WARREN_MGMT_URL and WARREN_IT_URL against
// another broker. It declares the queues over AMQP with a unique prefix
// and deletes them afterwards; the targets are a page of 100 in 100 ms,
// the full list and a definitions export in 1 s.
func TestScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("WARREN_MGMT_SCALE"))
	if n == 0 {
		t.Skip("set WARREN_MGMT_SCALE to the number of queues")
	}
	tg := newAMQPTarget(t)
	c := tg.dial(t, "warren-scale-"+tg.id)
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	prefix := "warren-scale-" + tg.id + "-"
	start := time.Now()
	for i := range n {
		if _, err := ch.QueueDeclare(prefix+strconv.Itoa(i), true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("declared %d queues in %v", n, time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		for i := range n {
			_, _ = ch.QueueDelete(prefix+strconv.Itoa(i), false, false, false)
		}
	})
	timed := func(what, path string) {
		best := time.Duration(1 << 62)
		var size int
		for range 3 {
			req, _ := http.NewRequest("GET", tg.base+path, nil)
			req.SetBasicAuth("guest", "guest")
			t0 := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d", path, resp.StatusCode)
			}
			best, size = min(best, time.Since(t0)), len(body)
		}
		t.Logf("%-40s best of 3: %8.1f ms, %d bytes", what, float64(best.Microseconds())/1000, size)
	}
	q := url.QueryEscape(prefix)
	timed("page of 100 (name filter)", "/api/queues/%2F?page=1&page_size=100&name="+q)
	timed("page of 100, last page (name filter)", "/api/queues/%2F?page="+strconv.Itoa(n/100)+"&page_size=100&name="+q)
	timed("page of 100 sorted by messages", "/api/queues?page=1&page_size=100&sort=messages&sort_reverse=true")
	timed("full list /api/queues", "/api/queues")
	timed("full list, columns=name,messages", "/api/queues?columns=name,messages")
	timed("definitions export /api/definitions", "/api/definitions")
}
