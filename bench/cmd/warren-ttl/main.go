// Command warren-ttl measures message expiry and dead lettering on a
// broker: N messages (100 B; transient, or persistent in durable queues with -durable) go into one queue, each with an
// expiration that makes them all due at the same moment D; it reports the
// broker's RSS and data-dir size with the N queued, how long after D the
// queue is empty (time to expire N), and, with -dlx, how long after D the
// dead-letter queue holds all N (dead-letter throughput).
//
//	warren-ttl -url amqp://guest:guest@127.0.0.1:5672/ -pid $(pgrep -f beam.smp) -n 1000000 -due 120s
//	warren-ttl -url amqp://guest:guest@127.0.0.1:5673/ -pid PID -data DIR -n 1000000 -due 30s -dlx
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

func main() {
	url := flag.String("url", "amqp://guest:guest@127.0.0.1:5672/", "broker")
	pid := flag.Int("pid", 0, "broker pid, for RSS (0: not measured)")
	data := flag.String("data", "", "broker data dir, for disk (empty: not measured)")
	n := flag.Int("n", 1_000_000, "messages")
	due := flag.Duration("due", 60*time.Second, "when, after the start, every message expires (must be after the publish ends)")
	dlx := flag.Bool("dlx", false, "dead letter the expired messages into a second queue")
	durable := flag.Bool("durable", false, "durable queues and persistent messages")
	flag.Parse()

	c, err := amqp.Dial(*url)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		log.Fatal(err)
	}
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)
	src, dlq := "bench.ttl."+tag, "bench.ttl.dlq."+tag
	args := amqp.Table{}
	if *dlx {
		if _, err := ch.QueueDeclare(dlq, *durable, false, false, false, nil); err != nil {
			log.Fatal(err)
		}
		args["x-dead-letter-exchange"] = ""
		args["x-dead-letter-routing-key"] = dlq
		defer ch.QueueDelete(dlq, false, false, false)
	}
	if _, err := ch.QueueDeclare(src, *durable, false, false, false, args); err != nil {
		log.Fatal(err)
	}
	defer ch.QueueDelete(src, false, false, false)
	// fatal deletes the queues first: a run given up must not leave a
	// million messages on a shared broker.
	fatal := func(format string, a ...any) {
		_, _ = ch.QueueDelete(src, false, false, false)
		if *dlx {
			_, _ = ch.QueueDelete(dlq, false, false, false)
		}
		log.Fatalf(format, a...)
	}

	rss0, disk0 := rss(*pid), du(*data)
	start := time.Now()
	deadline := start.Add(*due)
	body := make([]byte, 100)
	mode := amqp.Transient
	if *durable {
		mode = amqp.Persistent
	}
	ctx := context.Background()
	for i := range *n {
		left := time.Until(deadline).Milliseconds()
		if left < 1 {
			fatal("published only %d of %d before the due time: raise -due", i, *n)
		}
		if err := ch.PublishWithContext(ctx, "", src, false, false, amqp.Publishing{Body: body, DeliveryMode: mode, Expiration: strconv.FormatInt(left, 10)}); err != nil {
			fatal("publish: %v", err)
		}
	}
	count := func(q string) int {
		st, err := ch.QueueDeclarePassive(q, *durable, false, false, false, args0(q == src, args))
		if err != nil {
			log.Fatal(err)
		}
		return st.Messages
	}
	for count(src) < *n {
		if time.Now().After(deadline) {
			fatal("only %d of %d queued by the due time: raise -due", count(src), *n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	published := time.Since(start)
	rss1, disk1 := rss(*pid), du(*data)
	fmt.Printf("published %d in %v (%.0f msg/s)\n", *n, published.Round(time.Millisecond), float64(*n)/published.Seconds())
	if *pid > 0 {
		fmt.Printf("RSS %.1f MiB before, %.1f MiB with %d queued (+%.0f B/msg)\n", mib(rss0), mib(rss1), *n, float64(rss1-rss0)/float64(*n))
	}
	if *data != "" {
		fmt.Printf("data dir %.1f MiB before, %.1f MiB with %d queued (%.0f B/msg)\n", mib(disk0), mib(disk1), *n, float64(disk1-disk0)/float64(*n))
	}
	time.Sleep(time.Until(deadline))
	for count(src) > 0 {
		time.Sleep(5 * time.Millisecond)
	}
	expired := time.Since(deadline)
	fmt.Printf("expired %d in %v after they were due (%.0f msg/s)\n", *n, expired.Round(time.Millisecond), float64(*n)/expired.Seconds())
	if *dlx {
		for count(dlq) < *n {
			time.Sleep(5 * time.Millisecond)
		}
		moved := time.Since(deadline)
		fmt.Printf("dead lettered %d in %v after they were due (%.0f msg/s)\n", *n, moved.Round(time.Millisecond), float64(*n)/moved.Seconds())
	}
	// Segment deletion follows the acks; give it a moment.
	time.Sleep(time.Second)
	report := func(when string) {
		if *pid > 0 {
			fmt.Printf("RSS %.1f MiB %s\n", mib(rss(*pid)), when)
		}
		if *data != "" {
			fmt.Printf("data dir %.1f MiB %s\n", mib(du(*data)), when)
		}
	}
	report("after (1 s later)")
	if *dlx {
		if _, err := ch.QueuePurge(dlq, false); err != nil {
			log.Fatal(err)
		}
		time.Sleep(time.Second)
		report("after purging the dead-letter queue (1 s later)")
	}
}

func args0(isSrc bool, args amqp.Table) amqp.Table {
	if isSrc {
		return args
	}
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// rss reads VmRSS of pid, in bytes.
func rss(pid int) int64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// du is the disk the data dir takes, in bytes.
func du(dir string) int64 {
	if dir == "" {
		return 0
	}
	out, err := exec.Command("du", "-sk", dir).Output()
	if err != nil {
		return 0
	}
	kb, _ := strconv.ParseInt(strings.Fields(string(out))[0], 10, 64)
	return kb << 10
}
