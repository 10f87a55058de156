// Package perf runs AMQP load tests (in the spirit of RabbitMQ PerfTest and
// lavinmqperf) with either the fast raw-frame client or amqp091-go, and
// reports rates, latency percentiles and broker CPU and memory.
package perf

import (
	"errors"
	"fmt"
	"time"
)

// Config is one load run.
type Config struct {
	Name        string        // label for reports
	URI         string        // amqp://user:pass@host:port/vhost
	Client      string        // "fast" or "amqp091"
	Producers   int           // publishing connections
	Consumers   int           // consuming connections, spread over queues round-robin
	Queues      int           // number of queues
	QueuePrefix string        // queues are named Prefix-0 .. Prefix-(N-1)
	Durable     bool          // durable queues (and exchange)
	Size        int           // body bytes (>= 8 carries the send timestamp)
	Persistent  bool          // delivery mode 2
	Confirm     int           // publisher confirm window; 0 = no confirms
	Prefetch    int           // consumer prefetch; 0 = unlimited
	AutoAck     bool          // no-ack consumers
	MultiAck    int           // manual ack: one multiple ack every N deliveries
	Exchange    string        // exchange name; "" with type "" or "default" uses the default exchange
	Type        string        // "", direct, fanout, topic
	Bindings    int           // topic/direct: binding count spread over the queues (0 = one per queue)
	Keys        []string      // explicit publish routing keys (overrides derived ones)
	Rate        float64       // total publish rate, msg/s; 0 = as fast as possible
	Duration    time.Duration // run bound
	PMessages   int64         // total publish limit; 0 = until Duration
	BrokerPID   int           // local broker pid for CPU/RSS; 0 = none
	KeepQueues  bool          // do not delete queues and exchange at the end
	Progress    bool          // print a line per second
	BatchBytes  int           // fast client: bytes per publish write
	Drain       time.Duration // after publishing stops (pmessages), wait this long at most for deliveries

	// Feature paths.
	QueueTTL    int           // x-message-ttl on the queues, ms; < 0 = none
	MaxPriority int           // x-max-priority on the queues; 0 = none
	Priorities  int           // > 0: publish priorities 0..Priorities-1 in turn
	Expiration  string        // per-message expiration (ms), "" = none
	DeadLetter  bool          // queues dead-letter at once (x-message-ttl 0) into PREFIX-dlq-i, which the consumers read
	Stream      bool          // queues are streams (x-queue-type=stream, durable), consumed from x-stream-offset first with manual acks
	ScrapeURL   string        // GET this URL (Prometheus /metrics) every ScrapeEvery during the run
	ScrapeEvery time.Duration // scrape period (1 s)
	SyncURL     string        // Prometheus URL read before and after the run for the count of fdatasyncs
}

// Defaults returns the configuration the command line starts from.
func Defaults() Config {
	return Config{
		URI: "amqp://guest:guest@127.0.0.1:5672/", Client: "fast",
		Producers: 1, Consumers: 1, Queues: 1, QueuePrefix: "perf",
		Size: 16, Prefetch: 1000, MultiAck: 100, Type: "",
		Duration: 10 * time.Second, Progress: true, BatchBytes: 256 << 10,
		Drain: 3 * time.Second, QueueTTL: -1, ScrapeEvery: time.Second,
	}
}

// Validate checks the configuration and fills derived defaults.
func (c *Config) Validate() error {
	switch c.Client {
	case "fast", "amqp091":
	default:
		return fmt.Errorf("client %q: want fast or amqp091", c.Client)
	}
	if c.Type == "default" {
		c.Type = ""
	}
	switch c.Type {
	case "", "direct", "fanout", "topic":
	default:
		return fmt.Errorf("exchange type %q: want direct, fanout or topic", c.Type)
	}
	if c.Type != "" && c.Exchange == "" {
		c.Exchange = "perf-" + c.Type
	}
	if c.Type == "" && c.Exchange != "" {
		c.Type = "direct"
	}
	switch {
	case c.Producers < 0 || c.Consumers < 0:
		return errors.New("producers and consumers must be >= 0")
	case c.Producers == 0 && c.Consumers == 0:
		return errors.New("nothing to do: no producers and no consumers")
	case c.Queues < 1:
		return errors.New("queues must be >= 1")
	case c.Size < 0:
		return errors.New("size must be >= 0")
	case c.Confirm < 0 || c.Prefetch < 0 || c.MultiAck < 0 || c.Bindings < 0:
		return errors.New("confirm, prefetch, multi-ack and bindings must be >= 0")
	case c.Duration <= 0:
		return errors.New("duration must be > 0")
	case c.Rate < 0 || c.PMessages < 0:
		return errors.New("rate and pmessages must be >= 0")
	}
	if c.MaxPriority < 0 || c.MaxPriority > 255 || c.Priorities < 0 || c.Priorities > 256 {
		return errors.New("max-priority must be 0..255 and priorities 0..256")
	}
	if c.DeadLetter && c.Type != "" {
		return errors.New("dead-letter runs use the default exchange")
	}
	if c.Stream {
		// As RabbitMQ requires of a stream: durable, consumed with
		// a prefetch and manual acks (acks give credit back).
		if c.AutoAck || c.Prefetch <= 0 || c.DeadLetter || c.MaxPriority > 0 || c.QueueTTL >= 0 {
			return errors.New("stream runs need manual acks, a prefetch, and no TTL, priorities or dead lettering")
		}
		c.Durable = true
	}
	if c.ScrapeURL != "" && c.ScrapeEvery <= 0 {
		c.ScrapeEvery = time.Second
	}
	if c.Type == "" && c.Bindings > 0 {
		return errors.New("bindings need an exchange type")
	}
	if c.MultiAck == 0 {
		c.MultiAck = 1
	}
	if c.BatchBytes <= 0 {
		c.BatchBytes = 256 << 10
	}
	return nil
}

// Summary is a one-line description of the run's shape.
func (c *Config) Summary() string {
	ack := "autoack"
	if !c.AutoAck {
		ack = fmt.Sprintf("ack/%d", c.MultiAck)
	}
	ex := "default-exchange"
	if c.Type != "" {
		ex = fmt.Sprintf("%s:%s", c.Type, c.Exchange)
		if c.Bindings > 0 {
			ex += fmt.Sprintf(" %d bindings", c.Bindings)
		}
	}
	s := fmt.Sprintf("client=%s %dp/%dc queues=%d size=%dB persistent=%v durable=%v confirm=%d prefetch=%d %s %s",
		c.Client, c.Producers, c.Consumers, c.Queues, c.Size, c.Persistent, c.Durable, c.Confirm, c.Prefetch, ack, ex)
	if c.Rate > 0 {
		s += fmt.Sprintf(" rate=%.0f/s", c.Rate)
	}
	if c.PMessages > 0 {
		s += fmt.Sprintf(" pmessages=%d", c.PMessages)
	}
	if c.Client == "fast" && c.BatchBytes != 256<<10 && c.BatchBytes > 0 {
		s += fmt.Sprintf(" batch-bytes=%d", c.BatchBytes)
	}
	if c.QueueTTL >= 0 {
		s += fmt.Sprintf(" queue-ttl=%dms", c.QueueTTL)
	}
	if c.Stream {
		s += " stream"
	}
	if c.MaxPriority > 0 {
		s += fmt.Sprintf(" max-priority=%d priorities=%d", c.MaxPriority, c.Priorities)
	}
	if c.Expiration != "" {
		s += " expiration=" + c.Expiration + "ms"
	}
	if c.DeadLetter {
		s += " dead-letter(ttl 0 -> dlq)"
	}
	if c.ScrapeURL != "" {
		s += fmt.Sprintf(" scrape=%s/%s", c.ScrapeURL, c.ScrapeEvery)
	}
	return s + fmt.Sprintf(" duration=%s", c.Duration)
}
