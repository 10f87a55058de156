//go:build linux

package main

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var mgmtLine = regexp.MustCompile(`msg="management listening" http=(\S+)`)

// freePort is a TCP port nobody listens on now (-http-port 0 turns the
// management listener off, so its tests need a real port).
// mgmtDo sends an HTTP API request as guest and returns the status.
func mgmtDo(t *testing.T, p *warrenProc, method, path, body string) int {
	t.Helper()
	var m []string
	for deadline := time.Now().Add(30 * time.Second); m == nil; time.Sleep(10 * time.Millisecond) {
		if m = mgmtLine.FindStringSubmatch(p.log()); m == nil && time.Now().After(deadline) {
			t.Fatalf("no management listener in the log:\n%s", p.log())
		}
	}
	req, err := http.NewRequest(method, "http://"+m[1]+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("guest", "guest")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// default_limits.vhosts.* apply to a vhost created through the HTTP API:
// the first matching pattern's max_connections and max_queues hold.
func TestDefaultLimitsApplyToNewVHosts(t *testing.T) {
	conf := writeConf(t, `
default_limits.vhosts.1.pattern = ^tenant-
default_limits.vhosts.1.max_connections = 1
default_limits.vhosts.1.max_queues = 2
default_limits.vhosts.2.pattern = .*
default_limits.vhosts.2.max_queues = 100
`)
	p := startWarren(t, t.TempDir()+"/data", procOptions{args: []string{"-config", conf, "-http-port", strconv.Itoa(freePort(t))}})
	if code := mgmtDo(t, p, "PUT", "/api/vhosts/tenant-a", ""); code != http.StatusCreated {
		t.Fatalf("create vhost: %d", code)
	}
	if code := mgmtDo(t, p, "PUT", "/api/permissions/tenant-a/guest", `{"configure":".*","write":".*","read":".*"}`); code/100 != 2 {
		t.Fatalf("grant: %d", code)
	}
	url := vhostURL(p, "guest", "guest", "tenant-a")
	c := mustDial(t, url)
	defer c.Close()
	if c2, err := dialAMQP(url, 0); err == nil {
		_ = c2.Close()
		t.Error("a second connection to tenant-a passed its default max_connections = 1")
	}
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		_, err := ch.QueueDeclare("q"+string(rune('a'+i)), true, false, false, false, nil)
		if (err == nil) != (i < 2) {
			t.Fatalf("queue %d with a default max_queues = 2: %v", i+1, err)
		}
	}
	// The default vhost of the fresh data dir took the catch-all entry.
	c3 := mustDial(t, p.url)
	defer c3.Close()
	ch3, err := c3.Channel()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := ch3.QueueDeclare("", false, true, true, false, nil); err != nil {
			t.Fatalf("queue %d in / (max_queues 100): %v", i+1, err)
		}
	}
}
