package mgmt

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// rabbitDetailed is testdata's record of RabbitMQ 3.10.8's detailed
// families: family -> metric name -> type.
func rabbitDetailed(t *testing.T) map[string]map[string]string {
	t.Helper()
	b, err := os.ReadFile("testdata/rabbitmq-3.10.8-detailed-types.txt")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 || strings.HasPrefix(l, "#") {
			continue
		}
		if out[f[0]] == nil {
			out[f[0]] = map[string]string{}
		}
		out[f[0]][f[1]] = f[2]
	}
	return out
}

// Every detailed family Warren serves holds only RabbitMQ's names with
// RabbitMQ's types for that family, and its series count what a real
// client did on its connection, channel and queue.
func TestMetricsDetailedFamilies(t *testing.T) {
	tg := newAMQPTarget(t)
	if tg.external {
		t.Skip("in-process Warren only (RabbitMQ's own list is in testdata)")
	}
	c := tg.dial(t, "detailed")
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare("dq", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	acks := ch.NotifyPublish(make(chan amqp.Confirmation, 4))
	for _, body := range []string{"abc", "defgh"} {
		if err := ch.Publish("", "dq", false, false, amqp.Publishing{Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-acks:
		case <-time.After(30 * time.Second):
			t.Fatal("no confirm")
		}
	}
	if _, ok, err := ch.Get("dq", false); err != nil || !ok { // "abc" stays unacked
		t.Fatalf("get: %v %v", ok, err)
	}
	if _, err := ch.Consume("dq", "", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}

	var conn, chName string
	poll(t, "the channel is registered", func() bool {
		rows := decodeJSON(t, "channels", tg.guest(t, "GET", "/api/channels", "").body).([]any)
		if len(rows) != 1 {
			return false
		}
		m := rows[0].(map[string]any)
		chName = m["name"].(string)
		conn = m["connection_details"].(map[string]any)["name"].(string)
		return true
	})
	rabbit := rabbitDetailed(t)
	want := map[string]float64{
		`rabbitmq_detailed_process_open_tcp_sockets`:                                                    1,
		fmt.Sprintf(`rabbitmq_detailed_channel_messages_published_total{channel=%q,vhost="/"}`, chName): 2,
		fmt.Sprintf(`rabbitmq_detailed_channel_messages_confirmed_total{channel=%q,vhost="/"}`, chName): 2,
		fmt.Sprintf(`rabbitmq_detailed_channel_get_ack_total{channel=%q,vhost="/"}`, chName):            1,
		fmt.Sprintf(`rabbitmq_detailed_channel_consumers{channel=%q}`, chName):                          1,
		`rabbitmq_detailed_queue_messages_published_total{queue_vhost="/",queue="dq"}`:                  2,
		`rabbitmq_detailed_queue_messages_bytes{vhost="/",queue="dq"}`:                                  8,
		`rabbitmq_detailed_queue_messages_unacked_bytes{vhost="/",queue="dq"}`:                          8, // the consumer took "defgh"
		`rabbitmq_detailed_queue_messages_ready_bytes{vhost="/",queue="dq"}`:                            0,
		`rabbitmq_detailed_queue_consumers{vhost="/",queue="dq"}`:                                       1,
		fmt.Sprintf(`rabbitmq_detailed_connection_channels{channel=%q}`, conn):                          1,
		`rabbitmq_cluster_exchange_name{vhost="/",exchange="amq.topic",type="topic"}`:                   1,
		`rabbitmq_cluster_exchange_bindings{vhost="/",exchange="amq.topic",type="topic"}`:               0,
		`rabbitmq_cluster_vhost_status{vhost="/"}`:                                                      1,
	}
	served := map[string]bool{}
	var all scrape
	poll(t, "the detailed series", func() bool {
		all = scrape{types: map[string]string{}, series: map[string]float64{}}
		for fam, names := range rabbit {
			s := getMetrics(t, tg.base+"/metrics/detailed?family="+url.QueryEscape(fam))
			for name, typ := range s.types {
				if name == "rabbitmq_identity_info" || name == "rabbitmq_build_info" {
					continue
				}
				if names[name] != typ {
					t.Fatalf("family %s: %s %s is not RabbitMQ's (%q)", fam, name, typ, names[name])
				}
				served[fam+" "+name] = true
				all.types[name] = typ
			}
			for k, v := range s.series {
				all.series[k] = v
			}
		}
		for k, v := range want {
			if got, ok := all.series[k]; !ok || got != v {
				return false
			}
		}
		return true
	})
	if in := all.series[fmt.Sprintf(`rabbitmq_detailed_connection_incoming_bytes_total{channel=%q}`, conn)]; in < 100 {
		t.Errorf("connection incoming bytes %v", in)
	}
	if m := all.series[`rabbitmq_detailed_queue_process_memory_bytes{vhost="/",queue="dq"}`]; m <= 0 {
		t.Errorf("queue memory %v", m)
	}
	// Families Warren serves at least one name of.
	for _, fam := range []string{"connection_churn_metrics", "node_coarse_metrics", "node_metrics", "node_persister_metrics",
		"queue_coarse_metrics", "queue_consumer_count", "queue_metrics", "channel_exchange_metrics", "channel_metrics",
		"channel_queue_metrics", "channel_queue_exchange_metrics", "connection_coarse_metrics", "connection_metrics",
		"exchange_names", "exchange_bindings", "vhost_status"} {
		n := 0
		for name := range rabbit[fam] {
			if served[fam+" "+name] {
				n++
			}
		}
		if n == 0 {
			t.Errorf("family %s: nothing served", fam)
		}
	}
	// Both consumer families at once: one rabbitmq_detailed_queue_consumers.
	getMetrics(t, tg.base+"/metrics/detailed?family=queue_consumer_count&family=queue_metrics")
}
