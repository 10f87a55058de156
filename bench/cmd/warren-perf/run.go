package main

import (
	"flag"
	"os"
	"strings"

	"github.com/warrenmq/warren/bench/perf"
)

func runMain(args []string) int {
	c := perf.Defaults()
	fs := flag.NewFlagSet("warren-perf", flag.ContinueOnError)
	fs.StringVar(&c.URI, "uri", c.URI, "broker URI amqp://user:pass@host:port/vhost (loopback)")
	fs.StringVar(&c.Client, "client", c.Client, "client: fast (raw frames, batched) or amqp091 (rabbitmq/amqp091-go)")
	fs.StringVar(&c.Name, "name", "", "label in the RESULT line")
	fs.IntVar(&c.Producers, "producers", c.Producers, "producer connections")
	fs.IntVar(&c.Consumers, "consumers", c.Consumers, "consumer connections, spread over the queues")
	fs.IntVar(&c.Queues, "queues", c.Queues, "number of queues")
	fs.StringVar(&c.QueuePrefix, "queue-prefix", c.QueuePrefix, "queue name prefix (queues are PREFIX-0..N-1)")
	fs.BoolVar(&c.Durable, "durable", false, "durable queues and exchange")
	fs.IntVar(&c.Size, "size", c.Size, "message body bytes (>= 8 for latency)")
	fs.BoolVar(&c.Persistent, "persistent", false, "persistent messages (delivery mode 2)")
	fs.IntVar(&c.Confirm, "confirm", 0, "publisher confirm window; 0 = no confirms")
	fs.IntVar(&c.Prefetch, "prefetch", c.Prefetch, "consumer prefetch count; 0 = unlimited")
	fs.BoolVar(&c.AutoAck, "autoack", false, "consume with no-ack")
	fs.IntVar(&c.MultiAck, "multi-ack", c.MultiAck, "manual ack: one multiple ack every N deliveries")
	fs.StringVar(&c.Type, "type", "", "exchange type: direct, fanout, topic (empty = default exchange)")
	fs.StringVar(&c.Exchange, "exchange", "", "exchange name (default perf-TYPE)")
	fs.IntVar(&c.Bindings, "bindings", 0, "direct/topic: bindings spread over the queues (0 = one per queue)")
	keys := fs.String("routing-keys", "", "comma-separated publish routing keys (default derived from the topology)")
	fs.Float64Var(&c.Rate, "rate", 0, "total publish rate msg/s; 0 = unlimited")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "run time (upper bound when -pmessages is set)")
	fs.Int64Var(&c.PMessages, "pmessages", 0, "stop after publishing this many messages in total")
	fs.IntVar(&c.BrokerPID, "broker-pid", 0, "pid of a local broker: report its CPU and RSS")
	fs.BoolVar(&c.KeepQueues, "keep-queues", false, "do not delete queues and exchange at the end")
	tlsCA := fs.String("tls-ca", "", "amqps:// URIs: trust the PEM CA certificates in this file (with -client amqp091)")
	quiet := fs.Bool("quiet", false, "no per-second progress lines")
	fs.IntVar(&c.BatchBytes, "batch-bytes", c.BatchBytes, "fast client: bytes of publishes per write")
	fs.DurationVar(&c.Drain, "drain", c.Drain, "with -pmessages: wait at most this long past -duration for deliveries")
	fs.IntVar(&c.QueueTTL, "queue-ttl", c.QueueTTL, "x-message-ttl of the queues, ms (-1 = none)")
	fs.BoolVar(&c.Stream, "stream", false, "queues are streams (x-queue-type=stream), read from x-stream-offset first with manual acks")
	fs.IntVar(&c.MaxPriority, "max-priority", 0, "x-max-priority of the queues (0 = not a priority queue)")
	fs.IntVar(&c.Priorities, "priorities", 0, "publish priorities 0..N-1 in turn (0 = no priority property)")
	fs.StringVar(&c.Expiration, "expiration", "", "per-message expiration, ms")
	fs.BoolVar(&c.DeadLetter, "dead-letter", false, "queues dead-letter every message at once (x-message-ttl 0) into PREFIX-dlq-i; consumers read those")
	fs.StringVar(&c.ScrapeURL, "scrape", "", "GET this metrics URL every -scrape-every during the run")
	fs.DurationVar(&c.ScrapeEvery, "scrape-every", c.ScrapeEvery, "scrape period")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		return fail(2, "unexpected arguments %q", fs.Args())
	}
	if *keys != "" {
		c.Keys = strings.Split(*keys, ",")
	}
	c.Progress = !*quiet
	if *tlsCA != "" {
		if err := perf.TrustCA(*tlsCA); err != nil {
			return fail(2, "-tls-ca: %v", err)
		}
	}
	if err := announceTarget(fs, c.URI); err != nil {
		return fail(1, "%v", err)
	}
	res, err := perf.Run(c, os.Stdout)
	if err != nil {
		return fail(1, "%v", err)
	}
	res.Print(os.Stdout)
	if len(res.Errors) > 0 {
		return 1
	}
	return 0
}
