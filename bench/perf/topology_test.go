package perf

import (
	"reflect"
	"testing"
)

func TestBuildTopology(t *testing.T) {
	c := Defaults()
	c.Queues, c.Type, c.Bindings = 3, "topic", 7
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	tp := BuildTopology(&c)
	if len(tp.Bindings) != 7 || tp.Bindings[4] != (Binding{"perf-1", "perf.4.*"}) || tp.Keys[4] != "perf.4.x" {
		t.Fatalf("topic %+v", tp)
	}
	if c.Exchange != "perf-topic" {
		t.Fatalf("exchange %q", c.Exchange)
	}
	if k := tp.ProducerKeys(&c, 2); k[0] != "perf.2.x" || len(k) != 7 || k[6] != "perf.1.x" {
		t.Fatalf("rotation %v", k)
	}

	d := Defaults()
	d.Queues = 2
	_ = d.Validate()
	tp = BuildTopology(&d)
	if len(tp.Bindings) != 0 || !reflect.DeepEqual(tp.ProducerKeys(&d, 3), []string{"perf-1"}) || tp.ConsumerQueue(2) != "perf-0" {
		t.Fatalf("default exchange %+v", tp)
	}

	f := Defaults()
	f.Queues, f.Type = 4, "fanout"
	_ = f.Validate()
	tp = BuildTopology(&f)
	if len(tp.Bindings) != 4 || !reflect.DeepEqual(tp.Keys, []string{""}) {
		t.Fatalf("fanout %+v", tp)
	}
}

func TestValidate(t *testing.T) {
	bad := []func(*Config){
		func(c *Config) { c.Client = "x" },
		func(c *Config) { c.Type = "headers" },
		func(c *Config) { c.Producers, c.Consumers = 0, 0 },
		func(c *Config) { c.Queues = 0 },
		func(c *Config) { c.Bindings = 5 },
		func(c *Config) { c.Duration = 0 },
	}
	for i, f := range bad {
		c := Defaults()
		f(&c)
		if c.Validate() == nil {
			t.Errorf("case %d accepted", i)
		}
	}
}

func TestShare(t *testing.T) {
	if share(10, 3, 0) != 4 || share(10, 3, 2) != 3 || share(0, 3, 1) != 0 || share(2, 3, 2) != 0 {
		t.Fatal("share")
	}
}

func TestResultRoundTrip(t *testing.T) {
	r := Result{Name: "1 x", Client: "fast", Seconds: 10, OtherCPU: 5, ClientUsMsg: 1.234, PublishRate: 1234567, DeliverRate: 1000, LatencyN: 1, P50Us: 12, P99Us: 3400, BrokerPID: 1, CPUUsPerMsg: 1.5, RSSPeakMB: 100}
	got, err := ParseResult(r.JSONLine())
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("got %+v err %v", got, err)
	}
	if row := TableRow(&r); row != "| 1 x | fast | 1,234,567 | 1,000 | 12µs / 3.40ms | 1.50 | 100 | 1.23 | 0.50 |" {
		t.Fatalf("row %s", row)
	}
}

// A stream run declares durable stream queues and reads them from first,
// as RabbitMQ requires of a stream consumer (manual acks, a prefetch).
func TestStreamTopology(t *testing.T) {
	c := Defaults()
	c.Stream = true
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.Durable {
		t.Fatal("stream queues must be durable")
	}
	tp := BuildTopology(&c)
	want := []string{"x-queue-type=stream"}
	var got []string
	for _, f := range tp.QueueArgs(&c, 0) {
		got = append(got, f.Key+"="+f.Value.(string))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("queue args %v, want %v", got, want)
	}
	if a := ConsumeArgs(&c); len(a) != 1 || a[0].Key != "x-stream-offset" || a[0].Value != "first" {
		t.Fatalf("consume args %v", a)
	}
	if ConsumeArgs(&Config{}) != nil {
		t.Fatal("consume args without a stream")
	}
	c.AutoAck = true
	if err := c.Validate(); err == nil {
		t.Fatal("a no-ack stream run was accepted")
	}
}
