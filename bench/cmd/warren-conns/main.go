// Command warren-conns measures what idle AMQP connections cost a broker:
// it opens -n connections with one channel each (amqp091-go), holds them,
// and reads the broker's RSS from /proc/PID/status before and after.
//
//	warren-conns -url amqp://guest:guest@127.0.0.1:5672/ -pid $(pgrep -x warren) -n 10000
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

func main() {
	url := flag.String("url", "amqp://guest:guest@127.0.0.1:5672/", "broker URL")
	pid := flag.Int("pid", 0, "broker process id (its RSS is read from /proc)")
	n := flag.Int("n", 1000, "connections to open")
	settle := flag.Duration("settle", 5*time.Second, "wait before reading RSS with the connections open")
	flag.Parse()
	if *pid == 0 {
		fmt.Fprintln(os.Stderr, "warren-conns: -pid is required")
		os.Exit(2)
	}
	before, err := rssKiB(*pid)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	conns := make([]*amqp.Connection, 0, *n)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	start := time.Now()
	for i := range *n {
		c, err := amqp.DialConfig(*url, amqp.Config{Heartbeat: 60 * time.Second})
		if err != nil {
			fmt.Fprintf(os.Stderr, "connection %d: %v\n", i, err)
			return
		}
		conns = append(conns, c)
		if _, err := c.Channel(); err != nil {
			fmt.Fprintf(os.Stderr, "channel on connection %d: %v\n", i, err)
			return
		}
	}
	opened := time.Since(start)
	time.Sleep(*settle)
	after, err := rssKiB(*pid)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Printf("connections=%d opened_in=%v rss_before=%dKiB rss_after=%dKiB per_connection=%.1fKiB\n",
		len(conns), opened.Round(time.Millisecond), before, after, float64(after-before)/float64(len(conns)))
}

func rssKiB(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
