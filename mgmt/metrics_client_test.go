package mgmt

import (
	"context"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/netio"
)

// A real client's publishes, confirms, gets, deliveries, acks and closes
// show up in the rabbitmq_global_* and rabbitmq_channel_* families on the
// Prometheus listener, and no counter falls when the client's queue, channel
// and connection go.
func TestMetricsCountAClientOnThePrometheusPort(t *testing.T) {
	b, err := broker.Open(broker.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv := netio.NewServer(netio.Config{Addr: "127.0.0.1:0"}, b)
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run() }()
	select {
	case <-srv.Ready():
	case err := <-runErr:
		t.Fatal(err)
	}
	ps, err := ListenPrometheus("127.0.0.1:0", b)
	if err != nil {
		t.Fatal(err)
	}
	go ps.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = ps.Shutdown(ctx)
		_ = srv.Stop(ctx)
		b.Close()
	})
	addr, err := srv.Addr()
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ps.Addr().String()

	conn, err := amqp.Dial("amqp://guest:guest@" + addr.String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 8))
	q, err := ch.QueueDeclare("metrics-client", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, rk := range []string{q.Name, q.Name, q.Name, "nowhere"} {
		if err := ch.PublishWithContext(ctx, "", rk, false, false, amqp.Publishing{Body: []byte("m"), DeliveryMode: amqp.Persistent}); err != nil {
			t.Fatal(err)
		}
	}
	for range 4 {
		select {
		case c := <-confirms:
			if !c.Ack {
				t.Fatalf("nack %d", c.DeliveryTag)
			}
		case <-ctx.Done():
			t.Fatal("no confirm")
		}
	}
	if _, ok, err := ch.Get(q.Name, true); err != nil || !ok {
		t.Fatalf("get: %v %v", ok, err)
	}
	m, ok, err := ch.Get(q.Name, false)
	if err != nil || !ok {
		t.Fatalf("get: %v %v", ok, err)
	}
	if err := m.Nack(false, true); err != nil { // back, redelivered
		t.Fatal(err)
	}
	ds, err := ch.Consume(q.Name, "", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case d := <-ds:
			if err := d.Ack(false); err != nil {
				t.Fatal(err)
			}
		case <-ctx.Done():
			t.Fatal("no delivery")
		}
	}
	if _, ok, err := ch.Get(q.Name, true); err != nil || ok { // all delivered: get-empty
		t.Fatalf("get of a drained queue: %v %v", ok, err)
	}

	const amqpL, classicL = `{protocol="amqp091"}`, `{protocol="amqp091",queue_type="rabbit_classic_queue"}`
	want := map[string]float64{
		"rabbitmq_global_messages_received_total" + amqpL:                        4,
		"rabbitmq_global_messages_received_confirm_total" + amqpL:                4,
		"rabbitmq_global_messages_routed_total" + amqpL:                          3,
		"rabbitmq_global_messages_unroutable_dropped_total" + amqpL:              1,
		"rabbitmq_global_messages_confirmed_total" + amqpL:                       4,
		"rabbitmq_global_messages_delivered_get_auto_ack_total" + classicL:       1,
		"rabbitmq_global_messages_delivered_get_manual_ack_total" + classicL:     1,
		"rabbitmq_global_messages_delivered_consume_manual_ack_total" + classicL: 2,
		"rabbitmq_global_messages_redelivered_total" + classicL:                  1,
		"rabbitmq_global_messages_get_empty_total" + classicL:                    1,
		"rabbitmq_global_messages_acknowledged_total" + classicL:                 2,
		"rabbitmq_queue_messages_published_total":                                3,
		"rabbitmq_connections": 1,
		"rabbitmq_channels":    1,
		"rabbitmq_consumers":   1,
	}
	// Acks and get-empty travel asynchronously: poll until they show.
	var s scrape
	deadline := time.Now().Add(30 * time.Second)
	for {
		s = getMetrics(t, base+"/metrics")
		missing := ""
		for k, v := range want {
			if s.series[k] != v {
				missing = k
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v", missing, s.series[missing])
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := s.series["warren_fsync_duration_seconds_count"]; n < 1 {
		t.Errorf("no fsync observed for durable publishes: %v", n)
	}
	if n := s.series["warren_group_commit_files_count"]; n < 1 {
		t.Errorf("no group commit observed: %v", n)
	}
	if n := s.series["warren_fsync_records_total"]; n < 1 {
		t.Errorf("no fsynced records counted: %v", n)
	}
	per := getMetrics(t, base+"/metrics/per-object")
	if n := per.series[`warren_queue_segment_files{vhost="/",queue="metrics-client"}`]; n < 1 {
		t.Errorf("segment files of metrics-client = %v", n)
	}
	if n := per.series[`warren_queue_segment_bytes{vhost="/",queue="metrics-client"}`]; n < 1 {
		t.Errorf("segment bytes of metrics-client = %v", n)
	}

	before := s
	if _, err := ch.QueueDelete(q.Name, false, false, false); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	deadline = time.Now().Add(30 * time.Second)
	for {
		s = getMetrics(t, base+"/metrics")
		if s.series["rabbitmq_connections"] == 0 && s.series["rabbitmq_connections_closed_total"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connection still counted open: %v", s.series["rabbitmq_connections"])
		}
		time.Sleep(20 * time.Millisecond)
	}
	for key, was := range before.series {
		name, _, _ := strings.Cut(key, "{")
		if before.types[name] == "counter" && s.series[key] < was {
			t.Errorf("%s fell from %v to %v", key, was, s.series[key])
		}
	}
	if s.series["rabbitmq_channels_closed_total"] != 1 || s.series["rabbitmq_queues_deleted_total"] != 1 {
		t.Errorf("closed channels %v, deleted queues %v", s.series["rabbitmq_channels_closed_total"], s.series["rabbitmq_queues_deleted_total"])
	}
}
