// Command warren-unacked measures what unacked deliveries cost a broker: it
// fills a queue with -n small messages, consumes them all on one channel
// with no prefetch limit and no acks, and reports the broker's resident
// anonymous memory (RssAnon, from /proc/PID/status) before, at the last
// delivery and once the connection has been idle for 10 s; then it closes
// the consuming channel and reports how long the requeue of every delivery
// took, the peak RSS while it ran (sampled every 5 ms), and how long until
// RSS was back within 16 MB of where it started.
//
//	go run ./bench/cmd/warren-unacked -uri amqp://guest:guest@127.0.0.1:5713/ -pid $(pgrep -f 'warren -amqp-port 5713') -n 1000000
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

func main() {
	uri := flag.String("uri", "amqp://guest:guest@127.0.0.1:5672/", "broker URI")
	pid := flag.Int("pid", 0, "the broker's process id")
	n := flag.Int("n", 1_000_000, "unacked deliveries")
	queue := flag.String("queue", "warren-unacked", "queue to use (deleted first and at the end)")
	wait := flag.Duration("wait", 150*time.Second, "how long to wait for memory to come back after the requeue")
	flag.Parse()
	if *pid == 0 {
		log.Fatal("-pid is required")
	}
	rss := func() int64 { return rssAnon(*pid) }
	const near = 16 << 20

	c, err := amqp.Dial(*uri)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		log.Fatal(err)
	}
	if _, err := ch.QueueDelete(*queue, false, false, false); err != nil {
		log.Fatal(err)
	}
	if _, err := ch.QueueDeclare(*queue, false, false, false, false, nil); err != nil {
		log.Fatal(err)
	}
	body := make([]byte, 16)
	for range *n {
		if err := ch.Publish("", *queue, false, false, amqp.Publishing{Body: body}); err != nil {
			log.Fatal(err)
		}
	}
	waitReady(ch, *queue, *n)
	time.Sleep(3 * time.Second)
	before := rss()

	cch, err := c.Channel()
	if err != nil {
		log.Fatal(err)
	}
	ds, err := cch.Consume(*queue, "", false, false, false, false, nil)
	if err != nil {
		log.Fatal(err)
	}
	for range *n {
		<-ds
	}
	atLast := rss()
	t0 := time.Now()
	idleBack := time.Duration(-1)
	for time.Since(t0) < 10*time.Second {
		if idleBack < 0 && rss() <= before+near {
			idleBack = time.Since(t0)
		}
		time.Sleep(50 * time.Millisecond)
	}
	idle := rss()

	var peak atomic.Int64
	peak.Store(idle)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				if r := rss(); r > peak.Load() {
					peak.Store(r)
				}
			}
		}
	}()
	start := time.Now()
	if err := cch.Close(); err != nil {
		log.Fatal(err)
	}
	waitReady(ch, *queue, *n)
	requeue := time.Since(start)
	back := time.Duration(-1)
	for time.Since(start) < *wait {
		if rss() <= before+near {
			back = time.Since(start)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	mb := func(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }
	when := func(d time.Duration) string {
		if d < 0 {
			return "not within the wait"
		}
		return d.Round(time.Millisecond).String()
	}
	fmt.Printf("| unacked | RSS before | at last delivery | after 10 s idle | per unacked | back within 16 MB | requeue on close | RSS peak in requeue | back after requeue | RSS at end |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|---|\n")
	fmt.Printf("| %d | %s | %s | %s | %.1f B | %s | %s | %s | %s | %s |\n", *n, mb(before), mb(atLast), mb(idle),
		float64(idle-before)/float64(*n), when(idleBack), requeue.Round(time.Millisecond), mb(peak.Load()), when(back), mb(rss()))
	if _, err := ch.QueueDelete(*queue, false, false, false); err != nil {
		log.Fatal(err)
	}
}

// waitReady polls until q holds n ready messages.
func waitReady(ch *amqp.Channel, q string, n int) {
	for {
		st, err := ch.QueueDeclarePassive(q, false, false, false, false, nil)
		if err != nil {
			log.Fatal(err)
		}
		if st.Messages == n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rssAnon is the process's resident anonymous memory in bytes (the heap,
// not mapped segment files).
func rssAnon(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "RssAnon:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				log.Fatal(err)
			}
			return kb << 10
		}
	}
	log.Fatal("no RssAnon in /proc/PID/status")
	return 0
}
