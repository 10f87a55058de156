// Command warren-queues measures a broker with many durable queues: the
// rate of durable queue declares and bindings from several concurrent
// amqp091-go connections (against Warren or RabbitMQ), and, for a Warren it
// starts itself, RSS and open files with the queues idle, and the restart
// to accepting connections and first delivery with some queues holding a
// backlog.
//
//	warren-queues -url amqp://guest:guest@127.0.0.1:5672/ -queues 20000 -prefix me.   # any broker
//	warren-queues -warren ./warren -data /tmp/wq -queues 100000                        # Warren, with restart
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

type config struct {
	url       string
	warren    string
	dataDir   string
	port      int
	queues    int
	conns     int
	channels  int
	bind      bool
	prefix    string
	backlogQ  int
	backlogN  int
	keep      bool
	cleanup   bool
	warrenLog string
	pprof     string // address for Warren's -pprof; heap profiles are saved beside the data dir
	pid       int    // of the Warren started, 0 for another broker
}

func main() {
	c := &config{}
	flag.StringVar(&c.url, "url", "", "broker to measure (ignored with -warren)")
	flag.StringVar(&c.warren, "warren", "", "Warren binary to start, measure and restart")
	flag.StringVar(&c.dataDir, "data", "", "data dir for -warren (must not exist yet)")
	flag.IntVar(&c.port, "port", 5795, "AMQP port for -warren")
	flag.IntVar(&c.queues, "queues", 20000, "durable queues to declare")
	flag.IntVar(&c.conns, "conns", 16, "concurrent connections declaring")
	flag.IntVar(&c.channels, "channels", 1, "channels per connection, each with one request in flight")
	flag.BoolVar(&c.bind, "bind", true, "bind every queue to a durable direct exchange")
	flag.StringVar(&c.prefix, "prefix", "wq.", "prefix of every queue and exchange name")
	flag.IntVar(&c.backlogQ, "backlog-queues", 100, "queues given a backlog before the restart (-warren)")
	flag.IntVar(&c.backlogN, "backlog", 1000, "persistent messages in each backlog queue")
	flag.BoolVar(&c.keep, "keep", false, "leave the queues in place (default: delete them at the end)")
	flag.BoolVar(&c.cleanup, "cleanup", false, "only delete the queues and exchange a -keep run left (with -url)")
	flag.StringVar(&c.pprof, "pprof", "", "with -warren: serve pprof on this address and save heap profiles at each idle point")
	flag.Parse()
	if err := run(c); err != nil {
		log.Fatal(err)
	}
}

func run(c *config) error {
	var w *warrenProc
	if c.warren != "" {
		if c.dataDir == "" {
			return errors.New("-warren needs -data")
		}
		if _, err := os.Stat(c.dataDir); err == nil {
			return fmt.Errorf("data dir %s exists; give a new one", c.dataDir)
		}
		c.url = fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/", c.port)
		c.warrenLog = filepath.Join(filepath.Dir(filepath.Clean(c.dataDir)), filepath.Base(c.dataDir)+".log")
		var err error
		if w, _, err = startWarren(c); err != nil {
			return err
		}
		defer func() { w.stop(syscall.SIGTERM) }()
		c.pid = w.pid()
	}
	if c.url == "" {
		return errors.New("give -url or -warren")
	}
	if c.cleanup {
		return deleteAll(c)
	}
	fmt.Printf("target %s, %d durable queues, %d connections × %d channels, bindings %v\n", c.url, c.queues, c.conns, c.channels, c.bind)
	if err := declareAll(c); err != nil {
		return err
	}
	if w != nil {
		if err := measureWarren(c, w); err != nil {
			return err
		}
	}
	if !c.keep {
		return deleteAll(c)
	}
	return nil
}

func qname(c *config, i int) string { return fmt.Sprintf("%sq%07d", c.prefix, i) }
func xname(c *config) string        { return c.prefix + "x" }

// forEach runs f over [0, n) split across c.conns connections with
// c.channels channels each, one request in flight per channel, and prints
// the rate per tenth of the work, so a rate that falls as the broker fills
// shows.
func forEach(c *config, what string, n int, f func(conn *amqp.Connection, ch *amqp.Channel, i int) error) error {
	var done atomic.Int64
	var wg sync.WaitGroup
	workers := c.conns * c.channels
	errs := make(chan error, workers)
	start := time.Now()
	stopTicker := make(chan struct{})
	go progress(what, n, &done, start, stopTicker)
	for k := range c.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := amqp.Dial(c.url)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			var chans sync.WaitGroup
			for j := range c.channels {
				chans.Add(1)
				go func() {
					defer chans.Done()
					ch, err := conn.Channel()
					if err != nil {
						errs <- err
						return
					}
					defer ch.Close()
					for i := k*c.channels + j; i < n; i += workers {
						if err := f(conn, ch, i); err != nil {
							errs <- fmt.Errorf("%s %d: %w", what, i, err)
							return
						}
						done.Add(1)
					}
				}()
			}
			chans.Wait()
		}()
	}
	wg.Wait()
	close(stopTicker)
	el := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Printf("%s: %d in %.2f s = %.0f/s overall\n", what, n, el.Seconds(), float64(n)/el.Seconds())
	return nil
}

func progress(what string, n int, done *atomic.Int64, start time.Time, stop chan struct{}) {
	step := int64(max(n/10, 1))
	next, last, lastT := step, int64(0), start
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			if d := done.Load(); d >= next {
				fmt.Printf("  %s %7d..%7d: %8.0f/s\n", what, last, d, float64(d-last)/now.Sub(lastT).Seconds())
				last, lastT = d, now
				next = (d/step + 1) * step
			}
		}
	}
}

func declareAll(c *config) error {
	if err := forEach(c, "queue.declare", c.queues, func(_ *amqp.Connection, ch *amqp.Channel, i int) error {
		_, err := ch.QueueDeclare(qname(c, i), true, false, false, false, nil)
		return err
	}); err != nil {
		return err
	}
	if c.pid != 0 {
		idle(c, c.pid, "queues", fmt.Sprintf("idle with %d queues, no bindings", c.queues))
	}
	if !c.bind {
		return nil
	}
	if err := oneChannel(c, func(ch *amqp.Channel) error {
		return ch.ExchangeDeclare(xname(c), "direct", true, false, false, false, nil)
	}); err != nil {
		return err
	}
	return forEach(c, "queue.bind", c.queues, func(_ *amqp.Connection, ch *amqp.Channel, i int) error {
		return ch.QueueBind(qname(c, i), qname(c, i), xname(c), false, nil)
	})
}

func deleteAll(c *config) error {
	err := forEach(c, "queue.delete", c.queues, func(_ *amqp.Connection, ch *amqp.Channel, i int) error {
		_, err := ch.QueueDelete(qname(c, i), false, false, false)
		return err
	})
	if c.bind {
		err = errors.Join(err, oneChannel(c, func(ch *amqp.Channel) error { return ch.ExchangeDelete(xname(c), false, false) }))
	}
	return err
}

func oneChannel(c *config, f func(ch *amqp.Channel) error) error {
	conn, err := amqp.Dial(c.url)
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	return f(ch)
}

// measureWarren reads RSS and open files with every queue idle, gives
// some queues a backlog, restarts Warren with SIGKILL and times the way
// back: accepting connections, then the first delivery from a backlog.
func measureWarren(c *config, w *warrenProc) error {
	idle(c, w.pid(), "bound", fmt.Sprintf("idle with %d queues and their bindings", c.queues))
	body := make([]byte, 100)
	if err := forEach(c, "publish backlog", c.backlogQ, func(conn *amqp.Connection, _ *amqp.Channel, i int) error {
		ch, err := conn.Channel()
		if err != nil {
			return err
		}
		defer ch.Close()
		if err := ch.Confirm(false); err != nil {
			return err
		}
		conf := ch.NotifyPublish(make(chan amqp.Confirmation, c.backlogN))
		for range c.backlogN {
			if err := ch.PublishWithContext(context.Background(), "", qname(c, i*(c.queues/max(c.backlogQ, 1))), false, false,
				amqp.Publishing{DeliveryMode: amqp.Persistent, Body: body}); err != nil {
				return err
			}
		}
		for range c.backlogN {
			if cf := <-conf; !cf.Ack {
				return errors.New("publish nacked")
			}
		}
		return nil
	}); err != nil {
		return err
	}
	fmt.Printf("with %d backlogs of %d: RSS %s, open fds %d\n", c.backlogQ, c.backlogN, mib(rss(w.pid())), fds(w.pid()))
	w.stop(syscall.SIGKILL)
	nw, accepting, err := startWarren(c)
	if err != nil {
		return err
	}
	*w = *nw
	fmt.Printf("restart (SIGKILL before): process start → accepting AMQP connections %.3f s\n", accepting.Seconds())
	t := time.Now()
	if err := oneChannel(c, func(ch *amqp.Channel) error {
		d, err := ch.Consume(qname(c, 0), "", true, false, false, false, nil)
		if err != nil {
			return err
		}
		select {
		case <-d:
			return nil
		case <-time.After(time.Minute):
			return errors.New("no delivery after a minute")
		}
	}); err != nil {
		return err
	}
	fmt.Printf("restart: process start → first delivery from a backlog queue %.3f s\n", (accepting + time.Since(t)).Seconds())
	idle(c, w.pid(), "restarted", "after restart, idle")
	return nil
}

// idle reports RSS and open fds of the Warren at pid once its GC had a
// moment, so RSS reflects what is live, and with -pprof saves a heap
// profile named after tag beside the data dir.
func idle(c *config, pid int, tag, what string) {
	time.Sleep(2 * time.Second)
	fmt.Printf("%s: RSS %s, open fds %d\n", what, mib(rss(pid)), fds(pid))
	if c.pprof == "" {
		return
	}
	path := filepath.Clean(c.dataDir) + "." + tag + ".heap"
	if err := saveHeap(c.pprof, path); err != nil {
		fmt.Printf("  heap profile: %v\n", err)
		return
	}
	fmt.Printf("  heap profile: %s\n", path)
}

func saveHeap(addr, path string) error {
	resp, err := http.Get("http://" + addr + "/debug/pprof/heap?gc=1")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type warrenProc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func (w *warrenProc) pid() int { return w.cmd.Process.Pid }

func (w *warrenProc) stop(sig syscall.Signal) {
	_ = w.cmd.Process.Signal(sig)
	<-w.exited
}

// startWarren starts Warren on c's data dir and returns once it accepts
// connections, with how long that took.
func startWarren(c *config) (*warrenProc, time.Duration, error) {
	logf, err := os.OpenFile(c.warrenLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, 0, err
	}
	defer logf.Close()
	args := []string{"-data-dir", c.dataDir, "-amqp-port", strconv.Itoa(c.port), "-http-port", "0"}
	if c.pprof != "" {
		args = append(args, "-pprof", c.pprof)
	}
	cmd := exec.Command(c.warren, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	w := &warrenProc{cmd, make(chan struct{})}
	go func() { _ = cmd.Wait(); close(w.exited) }()
	addr := fmt.Sprintf("127.0.0.1:%d", c.port)
	for time.Since(t0) < 5*time.Minute {
		if nc, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			nc.Close()
			return w, time.Since(t0), nil
		}
		select {
		case <-w.exited:
			return nil, 0, fmt.Errorf("warren exited; see %s", c.warrenLog)
		case <-time.After(2 * time.Millisecond):
		}
	}
	_ = cmd.Process.Kill()
	return nil, 0, errors.New("warren not accepting connections after 5 minutes")
}

func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n << 10
		}
	}
	return 0
}

func fds(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(ents)
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
