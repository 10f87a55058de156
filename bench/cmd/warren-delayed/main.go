// Command warren-delayed measures how punctually a broker fires delayed
// messages (exchange type x-delayed-message, the x-delay header, as
// rabbitmq_delayed_message_exchange defines them) from outside the
// broker's process: N persistent messages go into a durable delayed
// exchange bound to one queue, due spread evenly over a window that starts
// after the publish ends; a consumer on another connection records, for
// each message, how long after its due time it arrived. It prints the
// broker's RSS (with -pid) with all N waiting and the lateness percentiles.
//
//	warren-delayed -url amqp://guest:guest@127.0.0.1:5673/ -pid PID -n 1000000 -start 30s -window 60s
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"slices"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/bench/perf"
)

func main() {
	url := flag.String("url", "amqp://guest:guest@127.0.0.1:5672/", "broker")
	pid := flag.Int("pid", 0, "broker pid, for RSS (0: not measured)")
	n := flag.Int("n", 1_000_000, "messages")
	start := flag.Duration("start", 30*time.Second, "when, after the run starts, the first message is due (after the publish ends)")
	window := flag.Duration("window", 60*time.Second, "the due times are spread over this long")
	flag.Parse()

	pc, err := amqp.Dial(*url)
	if err != nil {
		log.Fatal(err)
	}
	defer pc.Close()
	ch, err := pc.Channel()
	if err != nil {
		log.Fatal(err)
	}
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)
	x, q := "bench.delayed."+tag, "bench.delayed.q."+tag
	if err := ch.ExchangeDeclare(x, "x-delayed-message", true, false, false, false, amqp.Table{"x-delayed-type": "direct"}); err != nil {
		log.Fatal(err)
	}
	defer ch.ExchangeDelete(x, false, false)
	if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
		log.Fatal(err)
	}
	defer ch.QueueDelete(q, false, false, false)
	if err := ch.QueueBind(q, q, x, false, nil); err != nil {
		log.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		log.Fatal(err)
	}

	t0 := time.Now()
	first := t0.Add(*start)
	step := *window / time.Duration(*n)
	body := make([]byte, 8)
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 4096))
	const inFlight = 1024
	pending := 0
	for i := range *n {
		due := first.Add(time.Duration(i) * step)
		delay := (time.Until(due) + time.Millisecond - 1).Milliseconds() // rounded up: never due before our due time
		if delay < 0 {
			log.Fatalf("message %d published after it was due: raise -start", i)
		}
		binary.BigEndian.PutUint64(body, uint64(due.UnixNano()))
		err := ch.PublishWithContext(context.Background(), x, q, false, false, amqp.Publishing{
			DeliveryMode: amqp.Persistent, Body: body, Headers: amqp.Table{"x-delay": delay},
		})
		if err != nil {
			log.Fatal(err)
		}
		if pending++; pending == inFlight {
			for ; pending > inFlight/2; pending-- {
				if c := <-confirms; !c.Ack {
					log.Fatalf("publish %d nacked", c.DeliveryTag)
				}
			}
		}
	}
	for ; pending > 0; pending-- {
		<-confirms
	}
	pubDone := time.Now()
	fmt.Printf("published %d in %v (%.0f msg/s); first due in %v\n", *n, pubDone.Sub(t0).Round(time.Millisecond),
		float64(*n)/pubDone.Sub(t0).Seconds(), time.Until(first).Round(time.Millisecond))
	if *pid > 0 {
		fmt.Printf("broker RSS with %d waiting: %.1f MiB\n", *n, rssMiB(*pid))
	}

	cc, err := amqp.Dial(*url)
	if err != nil {
		log.Fatal(err)
	}
	defer cc.Close()
	cch, err := cc.Channel()
	if err != nil {
		log.Fatal(err)
	}
	if err := cch.Qos(2000, 0, false); err != nil {
		log.Fatal(err)
	}
	deliveries, err := cch.Consume(q, "", false, false, false, false, nil)
	if err != nil {
		log.Fatal(err)
	}
	late := make([]time.Duration, 0, *n)
	deadline := time.After(time.Until(first) + *window + 5*time.Minute)
	peakRSS := 0.0
	rssTick := time.NewTicker(time.Second)
	defer rssTick.Stop()
	for len(late) < *n {
		select {
		case d := <-deliveries:
			now := time.Now()
			due := time.Unix(0, int64(binary.BigEndian.Uint64(d.Body)))
			late = append(late, now.Sub(due))
			if len(late)%100 == 0 {
				_ = d.Ack(true)
			}
		case <-rssTick.C:
			if *pid > 0 {
				peakRSS = max(peakRSS, rssMiB(*pid))
			}
		case <-deadline:
			log.Fatalf("only %d of %d fired within 5 min after the window", len(late), *n)
		}
	}
	slices.Sort(late)
	pct := func(p float64) time.Duration { return late[min(len(late)-1, int(p*float64(len(late))))] }
	over := 0
	for _, l := range late {
		if l > 50*time.Millisecond {
			over++
		}
	}
	fmt.Printf("fired %d: lateness min %v p50 %v p99 %v p99.9 %v max %v; later than 50 ms: %d (%.3f%%); early: %v\n",
		len(late), pct(0).Round(time.Microsecond), pct(0.5).Round(time.Microsecond), pct(0.99).Round(time.Microsecond),
		pct(0.999).Round(time.Microsecond), late[len(late)-1].Round(time.Microsecond), over, 100*float64(over)/float64(len(late)), late[0] < 0)
	if *pid > 0 {
		fmt.Printf("broker RSS peak while firing: %.1f MiB\n", peakRSS)
	}
}

// rssMiB is the broker's VmRSS, 0 if it cannot be read.
func rssMiB(pid int) float64 {
	st, err := perf.ReadProc(pid)
	if err != nil {
		return 0
	}
	return float64(st.RSSBytes) / (1 << 20)
}
