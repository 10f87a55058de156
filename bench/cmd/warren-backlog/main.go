// Command warren-backlog measures a broker holding a big backlog: it fills one
// durable queue with N persistent messages as fast as the broker confirms
// them, reports the publish rate, the broker's memory (RSS, from
// /proc/PID/status) and data-dir bytes at the end of filling, optionally
// restarts the broker and times process start to first delivery, then drains
// the queue with a no-ack consumer and measures the data dir again.
//
//	go run ./bench/cmd/warren-backlog -uri amqp://guest:guest@127.0.0.1:5699/ -n 10000000 -size 100 \
//	    -pid $(pgrep -f 'warren -amqp-port 5699') -data-dir /tmp/wbig \
//	    -restart-cmd '/tmp/w -amqp-port 5699 -http-port 0 -data-dir /tmp/wbig'
//
// -restart-cmd is a shell command that runs the broker in the foreground.
// warren-backlog stops the old process (-pid) with -stop-signal, waits for it to
// go, starts the command in a new session (it keeps running after warren-backlog
// exits; its output goes to -restart-log) and measures from that moment.
//
// Publishing uses raw frames: each connection writes many publishes per
// write and keeps up to -window messages unconfirmed (publisher confirms).
// Bodies are random bytes (incompressible), different for every message.
// It prints a markdown summary on stdout and progress on stderr.
package main

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/warrenmq/warren/bench/perf"
	"github.com/warrenmq/warren/frame"
)

type config struct {
	uri        string
	n          int
	size       int
	queue      string
	lazy       bool
	conns      int
	window     int
	pid        int
	dataDir    string
	restartCmd string
	restartLog string
	stopSignal string
	restarts   int
	noDrain    bool
	keep       bool
	label      string
	maxPrio    int
}

func main() {
	var c config
	flag.StringVar(&c.uri, "uri", "amqp://guest:guest@127.0.0.1:5672/", "broker URI")
	flag.IntVar(&c.n, "n", 1_000_000, "messages to publish")
	flag.IntVar(&c.size, "size", 100, "body bytes per message")
	flag.StringVar(&c.queue, "queue", "backlog", "durable queue to fill (deleted and redeclared first)")
	flag.BoolVar(&c.lazy, "lazy", false, "declare the queue with x-queue-mode=lazy (RabbitMQ)")
	flag.IntVar(&c.conns, "conns", 4, "publishing connections")
	flag.IntVar(&c.window, "window", 20000, "unconfirmed messages per publishing connection")
	flag.IntVar(&c.pid, "pid", 0, "broker process id, for RSS (0: not measured)")
	flag.StringVar(&c.dataDir, "data-dir", "", "broker data directory, for disk bytes (empty: not measured)")
	flag.StringVar(&c.restartCmd, "restart-cmd", "", "shell command running the broker in the foreground; with it the broker (-pid) is restarted between fill and drain")
	flag.StringVar(&c.restartLog, "restart-log", "backlog-restart.log", "where the restarted broker's output goes")
	flag.StringVar(&c.stopSignal, "stop-signal", "TERM", "how to stop the broker for a restart: TERM or KILL, or a list (TERM,KILL) used in turn")
	flag.IntVar(&c.restarts, "restarts", 1, "restarts to time (with -restart-cmd)")
	flag.BoolVar(&c.noDrain, "no-drain", false, "stop after filling (and the restart)")
	flag.BoolVar(&c.keep, "keep", false, "do not delete the queue at the end")
	flag.StringVar(&c.label, "label", "", "broker name for the summary")
	flag.IntVar(&c.maxPrio, "max-priority", 0, "declare a priority queue with this x-max-priority; message i gets priority i mod (max+1)")
	flag.Parse()
	if err := run(&c); err != nil {
		fmt.Fprintln(os.Stderr, "warren-backlog:", err)
		os.Exit(1)
	}
}

// result collects the figures for the summary.
type result struct {
	rows [][2]string
}

func (r *result) add(k, format string, args ...any) {
	r.rows = append(r.rows, [2]string{k, fmt.Sprintf(format, args...)})
	fmt.Fprintf(os.Stderr, "== %s: %s\n", k, r.rows[len(r.rows)-1][1])
}

func run(c *config) error {
	if c.restartCmd != "" && c.pid == 0 {
		return errors.New("-restart-cmd needs -pid (the process to stop)")
	}
	res := &result{}
	var args frame.Table
	if c.lazy {
		args = frame.Table{"x-queue-mode": "lazy"}
	}
	if c.maxPrio > 0 {
		if args == nil {
			args = frame.Table{}
		}
		args["x-max-priority"] = int32(c.maxPrio)
	}
	ctl, err := dial(c.uri, 10*time.Second)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if _, err := ctl.rpc(&frame.QueueDelete{Queue: c.queue}, frame.IDQueueDeleteOk); err != nil {
		return fmt.Errorf("queue.delete: %w", err)
	}
	if _, err := ctl.declare(c.queue, false, args); err != nil {
		return fmt.Errorf("queue.declare: %w", err)
	}
	var baseDisk int64
	if c.dataDir != "" {
		baseDisk, _ = perf.DirBytes(c.dataDir)
	}
	rss0 := readProcStatus(c.pid)

	// Fill.
	sampler := newRSSSampler(c.pid)
	start := time.Now()
	if err := fill(c); err != nil {
		return err
	}
	fillTime := time.Since(start)
	peakFill := sampler.stop()
	res.add("publish", "%s msgs of %d B in %.1f s = %s msg/s (%d connections, confirm window %d each)",
		commas(int64(c.n)), c.size, fillTime.Seconds(), commas(int64(float64(c.n)/fillTime.Seconds())), c.conns, c.window)
	count, err := ctl.declare(c.queue, true, nil)
	if err != nil {
		return fmt.Errorf("queue.declare passive: %w", err)
	}
	res.add("queue after fill", "%s messages", commas(int64(count)))
	if c.pid != 0 {
		st := readProcStatus(c.pid)
		res.add("broker RSS before fill", "%s", rss0)
		res.add("broker RSS at end of fill", "%s; peak VmRSS sampled during fill %s", st, mib(peakFill))
		time.Sleep(5 * time.Second)
		res.add("broker RSS 5 s later", "%s", readProcStatus(c.pid))
	}
	var peakDisk int64
	if c.dataDir != "" {
		alloc, apparent := perf.DirBytes(c.dataDir)
		peakDisk = alloc
		res.add("data dir at end of fill", "%s allocated (%.1f B/msg over the %s before), %s apparent",
			gb(alloc), float64(alloc-baseDisk)/float64(c.n), gb(baseDisk), gb(apparent))
	}
	ctl.close()

	// Restart: stop the broker, start it again and time process start to
	// the first delivery to a consumer (prefetch 1, manual ack; the message
	// goes back to the queue when the connection closes).
	for i := 0; c.restartCmd != "" && i < c.restarts; i++ {
		sigs := strings.Split(c.stopSignal, ",")
		sig := strings.ToUpper(strings.TrimSpace(sigs[i%len(sigs)]))
		pid, cl, t0, err := restart(c, sig, res)
		if err != nil {
			return err
		}
		c.pid = pid
		if _, err := cl.rpc(&frame.BasicQos{PrefetchCount: 1}, frame.IDBasicQosOk); err != nil {
			return err
		}
		if _, err := cl.rpc(&frame.BasicConsume{Queue: c.queue, ConsumerTag: "first"}, frame.IDBasicConsumeOk); err != nil {
			return err
		}
		if _, err := cl.nextDeliver(); err != nil {
			return fmt.Errorf("first delivery: %w", err)
		}
		res.add(fmt.Sprintf("restart %d (SIG%s): process start → first delivery", i+1, sig), "%.3f s", time.Since(t0).Seconds())
		cl.close()
		if c.pid != 0 {
			res.add("broker RSS after restart + first delivery", "%s", readProcStatus(c.pid))
		}
		if n, err := queueCount(c); err != nil || n != count {
			return fmt.Errorf("after restart the queue holds %d messages (%v), want %d", n, err, count)
		}
	}
	if c.noDrain {
		printSummary(c, res)
		return nil
	}

	// Drain.
	drainConn, err := dial(c.uri, 10*time.Second)
	if err != nil {
		return err
	}
	if err := startConsume(drainConn, c.queue); err != nil {
		return err
	}
	got := 0
	sampler = newRSSSampler(c.pid)
	dstart := time.Now()
	lastReport := time.Now()
	for got < count {
		if _, err := drainConn.nextDeliver(); err != nil {
			return fmt.Errorf("drain after %d: %w", got, err)
		}
		got++
		if got%65536 == 0 && time.Since(lastReport) > 5*time.Second {
			lastReport = time.Now()
			fmt.Fprintf(os.Stderr, "drain: %s / %s, %s msg/s, broker %s\n", commas(int64(got)), commas(int64(count)),
				commas(int64(float64(got)/time.Since(dstart).Seconds())), readProcStatus(c.pid))
		}
	}
	dtime := time.Since(dstart)
	peakDrain := sampler.stop()
	res.add("drain (no-ack consumer)", "%s msgs in %.1f s = %s msg/s", commas(int64(got)), dtime.Seconds(), commas(int64(float64(got)/dtime.Seconds())))
	if c.pid != 0 {
		res.add("broker RSS after drain", "%s; peak VmRSS sampled during drain %s", readProcStatus(c.pid), mib(peakDrain))
	}
	drainConn.close()
	if c.dataDir != "" {
		var parts []string
		t0 := time.Now()
		for _, at := range []time.Duration{0, time.Second, 2 * time.Second, 5 * time.Second} {
			time.Sleep(time.Until(t0.Add(at)))
			alloc, _ := perf.DirBytes(c.dataDir)
			pct := 0.0
			if peakDisk > 0 {
				pct = 100 * float64(alloc) / float64(peakDisk)
			}
			parts = append(parts, fmt.Sprintf("+%v: %s (%.2f%% of peak)", at, gb(alloc), pct))
		}
		res.add("data dir after drain", "%s", strings.Join(parts, ", "))
	}
	if !c.keep {
		if cl, err := dial(c.uri, 10*time.Second); err == nil {
			_, _ = cl.rpc(&frame.QueueDelete{Queue: c.queue}, frame.IDQueueDeleteOk)
			cl.close()
		}
	}
	printSummary(c, res)
	return nil
}

func printSummary(c *config, res *result) {
	mode := "durable"
	if c.lazy {
		mode += ", x-queue-mode=lazy"
	}
	if c.maxPrio > 0 {
		mode += fmt.Sprintf(", x-max-priority=%d (priorities spread evenly)", c.maxPrio)
	}
	label := c.label
	if label == "" {
		label = c.uri
	}
	fmt.Printf("\n### backlog: %s × %d B persistent messages, one %s queue — %s\n\n", commas(int64(c.n)), c.size, mode, label)
	fmt.Println("| measure | value |")
	fmt.Println("|---|---|")
	for _, r := range res.rows {
		fmt.Printf("| %s | %s |\n", r[0], r[1])
	}
}

// fill publishes c.n messages over c.conns connections and waits for every
// confirm.
func fill(c *config) error {
	pool := make([]byte, 8<<20+c.size)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range pool {
		pool[i] = byte(rng.Uint32())
	}
	var published, confirmed atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, c.conns)
	per := c.n / c.conns
	for i := 0; i < c.conns; i++ {
		n := per
		if i == 0 {
			n += c.n - per*c.conns
		}
		wg.Add(1)
		go func(i, n int) {
			defer wg.Done()
			if err := publishConn(c, n, pool, i*7919, &published, &confirmed); err != nil {
				errs <- err
			}
		}(i, n)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	start := time.Now()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			select {
			case err := <-errs:
				return err
			default:
				return nil
			}
		case err := <-errs:
			return err
		case <-tick.C:
			el := time.Since(start).Seconds()
			fmt.Fprintf(os.Stderr, "fill: %s published, %s confirmed, %s msg/s, broker %s\n",
				commas(published.Load()), commas(confirmed.Load()), commas(int64(float64(confirmed.Load())/el)), readProcStatus(c.pid))
		}
	}
}

// publishConn publishes n messages on one connection with confirms,
// keeping at most c.window unconfirmed.
func publishConn(c *config, n int, pool []byte, poolOff int, published, confirmed *atomic.Int64) error {
	cl, err := dial(c.uri, 10*time.Second)
	if err != nil {
		return err
	}
	defer cl.close()
	if _, err := cl.rpc(&frame.ConfirmSelect{}, frame.IDConfirmSelectOk); err != nil {
		return err
	}
	// One prebuilt method + header per priority (just one without).
	heads := make([][]byte, c.maxPrio+1)
	for p := range heads {
		props := frame.AppendProperties(nil, &frame.Properties{DeliveryMode: 2, Priority: uint8(p)})
		heads[p] = frame.AppendMethodFrame(nil, chanID, &frame.BasicPublish{RoutingKey: c.queue})
		heads[p] = frame.AppendContentHeader(heads[p], chanID, 60, uint64(c.size), props)
	}
	head := heads[0]

	var acked atomic.Int64 // every tag <= acked is confirmed
	var nacks atomic.Int64
	wake := make(chan struct{}, 1)
	readErr := make(chan error, 1)
	go func() {
		var low int64
		singles := map[int64]bool{}
		for low < int64(n) {
			ch, p, err := cl.nextMethod()
			if err != nil {
				readErr <- err
				return
			}
			id, err := frame.MethodID(p)
			if err != nil {
				readErr <- err
				return
			}
			var tag int64
			var multiple bool
			switch id {
			case frame.IDBasicAck:
				var m frame.BasicAck
				if err := m.Decode(p[4:]); err != nil {
					readErr <- err
					return
				}
				tag, multiple = int64(m.DeliveryTag), m.Multiple
			case frame.IDBasicNack:
				var m frame.BasicNack
				if err := m.Decode(p[4:]); err != nil {
					readErr <- err
					return
				}
				tag, multiple = int64(m.DeliveryTag), m.Multiple
				nacks.Add(1)
			case frame.IDConnectionClose, frame.IDChannelClose:
				readErr <- cl.closeErr(id, p)
				return
			default:
				_ = ch
				continue
			}
			old := low
			if multiple {
				low = max(low, tag)
			} else if tag == low+1 {
				low = tag
			} else if tag > low {
				singles[tag] = true
			}
			for len(singles) > 0 {
				if !singles[low+1] {
					for t := range singles {
						if t <= low {
							delete(singles, t)
						}
					}
					break
				}
				delete(singles, low+1)
				low++
			}
			if low != old {
				confirmed.Add(low - old)
				acked.Store(low)
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}
		readErr <- nil
	}()

	const maxBatch = 2048
	buf := make([]byte, 0, maxBatch*(len(head)+c.size+8))
	off := poolOff
	sent := 0
	for sent < n {
		for sent-int(acked.Load()) >= c.window {
			select {
			case <-wake:
			case err := <-readErr:
				if err == nil {
					err = errors.New("reader stopped early")
				}
				return err
			}
		}
		k := min(n-sent, c.window-(sent-int(acked.Load())), maxBatch)
		buf = buf[:0]
		for i := 0; i < k; i++ {
			buf = append(buf, heads[(sent+i)%len(heads)]...)
			if off+c.size > len(pool) {
				off = (off + 1) % 4099
			}
			buf = frame.AppendBody(buf, chanID, pool[off:off+c.size], cl.frameMax)
			off += c.size + 1 // a different body every time
		}
		if _, err := cl.nc.Write(buf); err != nil {
			return err
		}
		sent += k
		published.Add(int64(k))
	}
	select {
	case err := <-readErr:
		if err != nil {
			return err
		}
	case <-time.After(10 * time.Minute):
		return errors.New("confirms still missing after 10 minutes")
	}
	if nacks.Load() > 0 {
		return fmt.Errorf("%d publishes nacked", nacks.Load())
	}
	return nil
}

func startConsume(cl *client, queue string) error {
	_, err := cl.rpc(&frame.BasicConsume{Queue: queue, ConsumerTag: "backlog", NoAck: true}, frame.IDBasicConsumeOk)
	return err
}

// nextDeliver waits for the next basic.deliver.
func (c *client) nextDeliver() (uint64, error) {
	for {
		_, p, err := c.nextMethod()
		if err != nil {
			return 0, err
		}
		id, err := frame.MethodID(p)
		if err != nil {
			return 0, err
		}
		switch id {
		case frame.IDBasicDeliver:
			return 0, nil
		case frame.IDConnectionClose, frame.IDChannelClose:
			return 0, c.closeErr(id, p)
		case frame.IDBasicCancel:
			return 0, errors.New("the server cancelled the consumer")
		}
	}
}

// restart stops the broker and starts -restart-cmd; it returns the new pid,
// a connected client and the moment the process was started.
func restart(c *config, signame string, res *result) (int, *client, time.Time, error) {
	sig := syscall.SIGTERM
	if signame == "KILL" {
		sig = syscall.SIGKILL
	}
	t := time.Now()
	if err := syscall.Kill(c.pid, sig); err != nil {
		return 0, nil, t, fmt.Errorf("stop pid %d: %w", c.pid, err)
	}
	for processAlive(c.pid) {
		if time.Since(t) > 5*time.Minute {
			return 0, nil, t, fmt.Errorf("pid %d still running 5 minutes after SIG%s", c.pid, signame)
		}
		time.Sleep(5 * time.Millisecond)
	}
	res.add("stop (SIG"+signame+") → process gone", "%.3f s", time.Since(t).Seconds())
	logf, err := os.Create(c.restartLog)
	if err != nil {
		return 0, nil, t, err
	}
	defer logf.Close()
	cmd := exec.Command("/bin/sh", "-c", "exec "+c.restartCmd)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, nil, t0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for {
		cl, err := dial(c.uri, 200*time.Millisecond)
		if err == nil {
			res.add("restart: process start → AMQP handshake done", "%.3f s (new pid %d, output in %s)", time.Since(t0).Seconds(), cmd.Process.Pid, c.restartLog)
			return cmd.Process.Pid, cl, t0, nil
		}
		select {
		case err := <-exited:
			return 0, nil, t0, fmt.Errorf("restarted broker exited: %v (see %s)", err, c.restartLog)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Since(t0) > 10*time.Minute {
			return 0, nil, t0, errors.New("restarted broker not accepting connections after 10 minutes")
		}
	}
}

func queueCount(c *config) (int, error) {
	cl, err := dial(c.uri, 10*time.Second)
	if err != nil {
		return 0, err
	}
	defer cl.close()
	return cl.declare(c.queue, true, nil)
}
