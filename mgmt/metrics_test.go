package mgmt

// HTTP tests of the Prometheus endpoints: RabbitMQ 3.10.8's names and types
// (testdata/rabbitmq-3.10.8-types.txt is its /metrics and /metrics/per-object
// TYPE lines), counters that never fall, every series RabbitMQ's Grafana
// dashboard "RabbitMQ-Overview" (testdata, from rabbitmq-server v3.10.8)
// queries, and the scrape time with many queues. Setting WARREN_PROM_URL
// (e.g. http://127.0.0.1:15692) runs the tests that need no in-process
// broker against a real RabbitMQ's Prometheus listener.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warrenmq/warren/broker"
)

// scrape is one parsed exposition: TYPE per family and value per series
// (name plus labels as written).
type scrape struct {
	types  map[string]string
	series map[string]float64
	names  map[string]bool // metric names with at least one sample
}

func getMetrics(t *testing.T, url string) scrape {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	return parseExposition(t, resp.Body)
}

func parseExposition(t *testing.T, r io.Reader) scrape {
	s := scrape{types: map[string]string{}, series: map[string]float64{}, names: map[string]bool{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	helped := map[string]bool{}
	for sc.Scan() {
		line := sc.Text()
		if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(f, " ")
			if _, dup := s.types[name]; dup {
				t.Errorf("TYPE %s twice", name)
			}
			s.types[name] = typ
			continue
		}
		if f, ok := strings.CutPrefix(line, "# HELP "); ok {
			name, _, _ := strings.Cut(f, " ")
			helped[name] = true
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("bad line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad value in %q", line)
		}
		key := line[:i]
		s.series[key] = v
		name, _, _ := strings.Cut(key, "{")
		s.names[name] = true
	}
	for name := range s.types {
		if strings.HasPrefix(name, "rabbitmq_") && !helped[name] {
			t.Errorf("%s has no HELP", name)
		}
	}
	return s
}

func rabbitTypes(t *testing.T) map[string]string {
	b, err := os.ReadFile("testdata/rabbitmq-3.10.8-types.txt")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(l) // # TYPE name type
		m[f[2]] = f[3]
	}
	return m
}

func metricsBroker(t *testing.T) (*broker.Broker, string) {
	t.Helper()
	tg := newTarget(t, nil)
	if tg.external {
		t.Skip("in-process Warren only")
	}
	return tg.b, tg.base
}

// promBase is WARREN_PROM_URL if set, else an in-process Warren's.
func promBase(t *testing.T) string {
	if u := os.Getenv("WARREN_PROM_URL"); u != "" {
		return strings.TrimSuffix(u, "/")
	}
	_, base := metricsBroker(t)
	return base
}

func declare(t *testing.T, v *broker.VHost, name string) {
	t.Helper()
	if _, err := v.QueueDeclare(guest(t, v.Name), broker.QueueDeclareOptions{Name: name}); err != nil {
		t.Fatal(err)
	}
}

func guest(t *testing.T, _ string) *broker.Principal {
	p, err := broker.DefaultUsers().Authenticate("guest", "guest", true)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func publish(t *testing.T, b *broker.Broker, rk string) {
	t.Helper()
	publishIn(t, b, "/", rk)
}

func publishIn(t *testing.T, b *broker.Broker, vhost, rk string) {
	t.Helper()
	v, _ := b.VHost(vhost)
	if _, _, err := v.Publish(guest(t, "/"), &broker.Message{RoutingKey: []byte(rk), Body: []byte("x")}, &broker.PublishCache{}, nil); err != nil {
		t.Fatal(err)
	}
}

// The families both serve carry RabbitMQ's TYPE, and the ones the brief and
// the dashboard name are there.
func TestMetricsNamesAndTypesAsRabbitMQ(t *testing.T) {
	base := promBase(t)
	want := rabbitTypes(t)
	for _, path := range []string{"/metrics", "/metrics/per-object"} {
		s := getMetrics(t, base+path)
		for name, typ := range s.types {
			if rt, ok := want[name]; ok && rt != typ {
				t.Errorf("%s: %s is %s, RabbitMQ says %s", path, name, typ, rt)
			}
		}
		for _, name := range []string{
			"rabbitmq_connections", "rabbitmq_channels", "rabbitmq_consumers", "rabbitmq_queues",
			"rabbitmq_queue_messages", "rabbitmq_queue_messages_ready", "rabbitmq_queue_messages_unacked",
			"rabbitmq_queue_messages_published_total", "rabbitmq_channel_messages_published_total",
			"rabbitmq_channel_messages_confirmed_total", "rabbitmq_channel_messages_delivered_total",
			"rabbitmq_channel_messages_acked_total", "rabbitmq_channel_messages_redelivered_total",
			"rabbitmq_channel_get_total", "rabbitmq_channel_get_ack_total", "rabbitmq_channel_get_empty_total",
			"rabbitmq_connections_opened_total", "rabbitmq_connections_closed_total",
			"rabbitmq_channels_opened_total", "rabbitmq_channels_closed_total",
			"rabbitmq_queues_declared_total", "rabbitmq_queues_created_total", "rabbitmq_queues_deleted_total",
			"rabbitmq_process_resident_memory_bytes", "rabbitmq_process_open_fds", "rabbitmq_process_max_fds",
			"rabbitmq_disk_space_available_bytes", "rabbitmq_resident_memory_limit_bytes",
			"rabbitmq_build_info", "rabbitmq_identity_info",
		} {
			if _, ok := s.types[name]; !ok {
				t.Errorf("%s: no family %s", path, name)
			}
			if s.types[name] != want[name] {
				t.Errorf("%s: %s is %q, RabbitMQ says %q", path, name, s.types[name], want[name])
			}
		}
		for _, name := range []string{"rabbitmq_alarms_memory_used_watermark", "rabbitmq_alarms_free_disk_space_watermark",
			"rabbitmq_alarms_file_descriptor_limit"} {
			if _, ok := s.types[name]; ok != (path == "/metrics") { // as RabbitMQ: not per-object
				t.Errorf("%s: family %s: %v", path, name, ok)
			}
		}
		if s.series["rabbitmq_process_resident_memory_bytes"] <= 0 || s.series["rabbitmq_process_max_fds"] <= 0 ||
			s.series["rabbitmq_disk_space_available_bytes"] <= 0 {
			t.Errorf("%s: process figures missing: %v", path, s.series)
		}
	}
}

// Per-object lines carry vhost and queue; /metrics aggregates them away.
func TestMetricsPerObjectLabels(t *testing.T) {
	b, base := metricsBroker(t)
	v, _ := b.VHost("/")
	declare(t, v, `odd"name\x`)
	declare(t, v, "plain")
	publish(t, b, "plain")
	s := getMetrics(t, base+"/metrics/per-object")
	if got := s.series[`rabbitmq_queue_messages_ready{vhost="/",queue="plain"}`]; got != 1 {
		t.Errorf("plain ready = %v", got)
	}
	if _, ok := s.series[`rabbitmq_queue_messages{vhost="/",queue="odd\"name\\x"}`]; !ok {
		t.Errorf("escaped queue name missing")
	}
	agg := getMetrics(t, base+"/metrics")
	if agg.series["rabbitmq_queue_messages_ready"] != 1 || agg.series["rabbitmq_queues"] != 2 {
		t.Errorf("aggregated: ready %v queues %v", agg.series["rabbitmq_queue_messages_ready"], agg.series["rabbitmq_queues"])
	}
	d := getMetrics(t, base+"/metrics/detailed?family=queue_coarse_metrics&family=connection_churn_metrics&vhost=/")
	if d.series[`rabbitmq_detailed_queue_messages_ready{vhost="/",queue="plain"}`] != 1 ||
		d.series["rabbitmq_detailed_queues_created_total"] != 2 || !d.names["rabbitmq_identity_info"] {
		t.Errorf("detailed: %v", d.series)
	}
	if d := getMetrics(t, base+"/metrics/detailed?family=queue_coarse_metrics&vhost=other"); len(d.types) != 3+2 {
		t.Errorf("detailed for another vhost: %v", d.types)
	}
}

// A deleted queue's and a closed channel's counts stay in the totals.
func TestMetricsCountersSurviveDeletes(t *testing.T) {
	b, base := metricsBroker(t)
	v, _ := b.VHost("/")
	declare(t, v, "gone")
	for range 3 {
		publish(t, b, "gone")
	}
	var e broker.ConnEntry
	var ch broker.ChannelEntry
	b.Registry().Add(&e, broker.ConnInfo{ID: b.NewConnID()}, nil)
	e.AddChannel(&ch, 1)
	ch.CountPublish(true, false, true)
	ch.CountDeliver(false, true)
	ch.Acked.Add(1)

	before := getMetrics(t, base+"/metrics")
	if _, err := v.QueueDelete(guest(t, "/"), "gone", broker.QueueDeleteOptions{}, 0); err != nil {
		t.Fatal(err)
	}
	e.RemoveChannel(&ch)
	mid := getMetrics(t, base+"/metrics")
	b.Registry().Remove(&e)
	after := getMetrics(t, base+"/metrics")

	for _, s := range []scrape{mid, after} {
		for key, was := range before.series {
			name, _, _ := strings.Cut(key, "{")
			if before.types[name] == "counter" && strings.HasPrefix(name, "rabbitmq_") && s.series[key] < was {
				t.Errorf("%s fell from %v to %v", key, was, s.series[key])
			}
		}
	}
	for key, want := range map[string]float64{
		"rabbitmq_queue_messages_published_total":                             3,
		"rabbitmq_queues_deleted_total":                                       1,
		"rabbitmq_channels_closed_total":                                      1,
		"rabbitmq_connections_closed_total":                                   1,
		"rabbitmq_channel_messages_acked_total":                               1,
		"rabbitmq_channel_messages_redelivered_total":                         1,
		`rabbitmq_global_messages_received_confirm_total{protocol="amqp091"}`: 1,
		`rabbitmq_global_messages_delivered_consume_manual_ack_total{protocol="amqp091",queue_type="rabbit_classic_queue"}`: 1,
		"rabbitmq_queues":   0,
		"rabbitmq_channels": 0,
	} {
		if got := after.series[key]; got != want {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
}

// Every series RabbitMQ-Overview's panels query is served, and
// rabbitmq_identity_info has the labels the panels join on and group by.
func TestMetricsServeRabbitMQOverviewDashboard(t *testing.T) {
	base := promBase(t)
	raw, err := os.ReadFile("testdata/RabbitMQ-Overview.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	var exprs []string
	var walk func(any)
	walk = func(o any) {
		switch o := o.(type) {
		case map[string]any:
			for k, v := range o {
				if s, ok := v.(string); ok && (k == "expr" || k == "query") {
					exprs = append(exprs, s)
				} else {
					walk(v)
				}
			}
		case []any:
			for _, v := range o {
				walk(v)
			}
		}
	}
	walk(dash)
	if len(exprs) < 30 {
		t.Fatalf("only %d expressions in the dashboard", len(exprs))
	}
	labelNames := map[string]bool{"rabbitmq_cluster": true, "rabbitmq_node": true}
	metric := regexp.MustCompile(`\b(?:rabbitmq|erlang)_[a-z_]+\b`)
	want := map[string]bool{}
	for _, e := range exprs {
		for _, n := range metric.FindAllString(e, -1) {
			if !labelNames[n] {
				want[n] = true
			}
		}
	}
	s := getMetrics(t, base+"/metrics")
	for n := range want {
		if !s.names[n] {
			t.Errorf("dashboard queries %s; /metrics has no sample of it", n)
		}
	}
	found := false
	for key := range s.series {
		if strings.HasPrefix(key, "rabbitmq_identity_info{") {
			found = strings.Contains(key, `rabbitmq_node="`) && strings.Contains(key, `rabbitmq_cluster="`) && strings.Contains(key, `rabbitmq_cluster_permanent_id="rabbitmq-cluster-id-`)
		}
	}
	if !found {
		t.Error("rabbitmq_identity_info lacks rabbitmq_node, rabbitmq_cluster or rabbitmq_cluster_permanent_id")
	}
	t.Logf("%d expressions, %d series names, all served", len(exprs), len(want))
}

// A per-object scrape of many queues stays fast. WARREN_METRICS_QUEUES sets
// the count (10,000 for BENCHMARKS.md); make test uses 2,000 and the same
// 500 ms budget.
func TestMetricsScrapeTimeManyQueues(t *testing.T) {
	n := 2000
	if s := os.Getenv("WARREN_METRICS_QUEUES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	b, base := metricsBroker(t)
	v, _ := b.VHost("/")
	for i := range n {
		declare(t, v, fmt.Sprintf("scrape-%06d", i))
	}
	for _, path := range []string{"/metrics", "/metrics/per-object"} {
		getMetrics(t, base+path) // warm
		best := time.Hour
		for range 5 {
			start := time.Now()
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			nb, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			d := time.Since(start)
			best = min(best, d)
			if path == "/metrics/per-object" && nb < int64(n*50) {
				t.Fatalf("per-object scrape only %d bytes", nb)
			}
		}
		t.Logf("%s with %d queues: best of 5 %v", path, n, best)
		if best > 500*time.Millisecond {
			t.Errorf("%s with %d queues took %v (budget 500 ms)", path, n, best)
		}
	}
}

// Deleting a vhost keeps its queues' counts in the totals.
func TestMetricsCountersSurviveAVHostDelete(t *testing.T) {
	b, base := metricsBroker(t)
	if err := b.AddVHost("metrics-vh"); err != nil {
		t.Fatal(err)
	}
	if err := b.Users().SetPermissions(broker.Permission{User: "guest", VHost: "metrics-vh", Configure: ".*", Write: ".*", Read: ".*"}); err != nil {
		t.Fatal(err)
	}
	v, _ := b.VHost("metrics-vh")
	p, err := b.Users().Authenticate("guest", "guest", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.QueueDeclare(p, broker.QueueDeclareOptions{Name: "q"}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, _, err := v.Publish(p, &broker.Message{RoutingKey: []byte("q"), Body: []byte("x")}, &broker.PublishCache{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := getMetrics(t, base+"/metrics").series["rabbitmq_queue_messages_published_total"]; got != 2 {
		t.Fatalf("published_total = %v before the delete", got)
	}
	if err := b.DeleteVHost("metrics-vh"); err != nil {
		t.Fatal(err)
	}
	s := getMetrics(t, base+"/metrics")
	if got := s.series["rabbitmq_queue_messages_published_total"]; got != 2 {
		t.Errorf("published_total = %v after the vhost delete, want 2", got)
	}
	if s.series["rabbitmq_queues"] != 0 || s.series["rabbitmq_queues_deleted_total"] != 1 {
		t.Errorf("queues %v, deleted %v", s.series["rabbitmq_queues"], s.series["rabbitmq_queues_deleted_total"])
	}
}
