package perf

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// These tests need a broker: AMQP_URL=amqp://guest:guest@127.0.0.1:5672/.

func brokerConfig(t *testing.T, client string) Config {
	url := os.Getenv("AMQP_URL")
	if url == "" {
		t.Skip("AMQP_URL not set")
	}
	c := Defaults()
	c.URI, c.Client, c.Progress = url, client, false
	c.QueuePrefix = fmt.Sprintf("perf-test-%s-%d", client, time.Now().UnixNano())
	c.Duration = 20 * time.Second
	return c
}

func runOK(t *testing.T, c Config) *Result {
	t.Helper()
	r, err := Run(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Errors) > 0 {
		t.Fatalf("errors: %v", r.Errors)
	}
	return r
}

func TestBrokerExactCounts(t *testing.T) {
	for _, client := range []string{"fast", "amqp091"} {
		t.Run(client+"/confirms-manual-ack", func(t *testing.T) {
			c := brokerConfig(t, client)
			c.PMessages, c.Confirm, c.MultiAck, c.Prefetch, c.Size = 5000, 100, 10, 200, 100
			c.Durable, c.Persistent = true, true
			r := runOK(t, c)
			if r.Published != 5000 || r.Confirmed != 5000 || r.Delivered != 5000 || r.LatencyN != 5000 {
				t.Fatalf("%+v", r)
			}
		})
		t.Run(client+"/topic", func(t *testing.T) {
			c := brokerConfig(t, client)
			c.Type, c.Bindings, c.Queues, c.Consumers, c.PMessages, c.AutoAck = "topic", 20, 2, 2, 2000, true
			if r := runOK(t, c); r.Published != 2000 || r.Delivered != 2000 {
				t.Fatalf("%+v", r)
			}
		})
		t.Run(client+"/fanout", func(t *testing.T) {
			c := brokerConfig(t, client)
			c.Type, c.Queues, c.Consumers, c.Producers, c.PMessages, c.AutoAck = "fanout", 3, 3, 2, 1001, true
			if r := runOK(t, c); r.Published != 1001 || r.Delivered != 3003 {
				t.Fatalf("%+v", r)
			}
		})
		t.Run(client+"/publish-only", func(t *testing.T) {
			c := brokerConfig(t, client)
			c.Consumers, c.PMessages, c.Size = 0, 20000, 10
			if r := runOK(t, c); r.Published != 20000 || r.PublishRate <= 0 {
				t.Fatalf("%+v", r)
			}
		})
	}
}

func TestBrokerRateAndDuration(t *testing.T) {
	c := brokerConfig(t, "fast")
	c.Rate, c.Duration, c.AutoAck, c.BrokerPID = 2000, 2*time.Second, true, os.Getpid()
	r := runOK(t, c)
	if r.Published < 3600 || r.Published > 4400 {
		t.Fatalf("published %d at 2000/s for 2s", r.Published)
	}
	if r.Delivered < r.Published*9/10 || r.P99Us <= 0 || r.P50Us > r.P99Us {
		t.Fatalf("%+v", r)
	}
	if r.BrokerPID == 0 || r.RSSMB <= 0 {
		t.Fatalf("process stats missing: %+v", r)
	}
}
