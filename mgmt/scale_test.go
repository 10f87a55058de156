package mgmt

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
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
	scaleConns(t, tg)
	timedURL := func(what, u string, auth bool) {
		best, worst := time.Duration(1<<62), time.Duration(0)
		var size int
		for range 3 {
			req, _ := http.NewRequest("GET", u, nil)
			if auth {
				req.SetBasicAuth("guest", "guest")
			}
			t0 := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d", u, resp.StatusCode)
			}
			d := time.Since(t0)
			best, worst, size = min(best, d), max(worst, d), len(body)
		}
		t.Logf("%-58s best/worst of 3: %7.1f / %7.1f ms, %d bytes", what, float64(best.Microseconds())/1000, float64(worst.Microseconds())/1000, size)
	}
	timed := func(what, path string) { timedURL(what, tg.base+path, true) }
	q := url.QueryEscape(prefix)
	timed("page of 100 (name filter)", "/api/queues/%2F?page=1&page_size=100&name="+q)
	timed("page of 100, last page (name filter)", "/api/queues/%2F?page="+strconv.Itoa(n/100)+"&page_size=100&name="+q)
	// The sort keys of the UI's queue list (ui/app.js).
	for _, key := range []string{"name", "vhost", "policy", "state", "messages_ready", "messages_unacknowledged", "messages", "consumers",
		"message_stats.publish_details.rate", "message_stats.deliver_get_details.rate", "message_stats.ack_details.rate"} {
		timed("page of 100 sorted by "+key, "/api/queues?page=1&page_size=100&sort="+key+"&sort_reverse=true")
	}
	timed("page of 100 sorted by messages, name filter", "/api/queues?page=1&page_size=100&sort=messages&name="+q)
	timed("full list /api/queues", "/api/queues")
	timed("full list, columns=name,messages", "/api/queues?columns=name,messages")
	timed("definitions export /api/definitions", "/api/definitions")
	timed("/api/overview", "/api/overview")
	timed("/api/connections", "/api/connections")
	timed("/api/channels", "/api/channels")
	timed("/api/channels?page=1&page_size=100&sort=messages_unacknowledged", "/api/channels?page=1&page_size=100&sort=messages_unacknowledged")
	if prom := promURL(tg); prom != "" {
		timedURL("Prometheus /metrics", prom+"/metrics", false)
		timedURL("Prometheus /metrics/per-object", prom+"/metrics/per-object", false)
	}
}

// scaleConns opens WARREN_MGMT_SCALE_CONNS connections (each with a
// channel) to the target, closed at cleanup, so the figures are taken
// with that many connections open.
func scaleConns(t *testing.T, tg *amqpTarget) {
	n, _ := strconv.Atoi(os.Getenv("WARREN_MGMT_SCALE_CONNS"))
	if n == 0 {
		return
	}
	start := time.Now()
	for i := range n {
		c := tg.dial(t, "warren-scale-conn-"+tg.id+"-"+strconv.Itoa(i))
		if _, err := c.Channel(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("opened %d connections in %v", n, time.Since(start).Round(time.Millisecond))
}

// promURL is where the target serves Prometheus: the management port for
// the in-process Warren, WARREN_PROM_URL for an external broker.
func promURL(tg *amqpTarget) string {
	if tg.external {
		return strings.TrimSuffix(os.Getenv("WARREN_PROM_URL"), "/")
	}
	return tg.base
}
