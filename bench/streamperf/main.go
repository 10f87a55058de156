// Command streamperf is a load tool for RabbitMQ's stream protocol (port
// 5552): Warren's and RabbitMQ's stream plugin, driven the same way. It
// speaks the protocol directly (std only, no per-message allocation):
// one producer publishing batches of AMQP 1.0 messages with confirms and
// a window of unconfirmed messages, or N consumers reading one stream from
// first with credit, counting the records of each delivered chunk.
//
//	go run ./bench/streamperf -addr 127.0.0.1:5552 -mode publish -size 16 -duration 10s
//	go run ./bench/streamperf -addr 127.0.0.1:5552 -mode consume -consumers 10 -messages 5000000
//
// Output: a progress line a second and one `RESULT {json}` line.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warrenmq/warren/bench/perf"
)

type config struct {
	addr, user, pass, vhost, stream, mode string
	size, batch, window, consumers        int
	messages                              int64
	duration                              time.Duration
	brokerPid, credit                     int
	keep                                  bool
}

// Result is the RESULT line.
type Result struct {
	Broker       string  `json:"broker"`
	Mode         string  `json:"mode"`
	Size         int     `json:"size"`
	Consumers    int     `json:"consumers,omitempty"`
	Messages     int64   `json:"messages"`
	Seconds      float64 `json:"seconds"`
	Rate         float64 `json:"msg_per_s"`
	MBps         float64 `json:"mb_per_s"`
	BrokerCPU    float64 `json:"broker_cpu_s,omitempty"`
	BrokerRSSMiB float64 `json:"broker_rss_mib,omitempty"`
	// BrokerDiskRead is what the broker read from storage meanwhile
	// (/proc/PID/io read_bytes: page cache hits are not counted), -1 if
	// unreadable.
	BrokerDiskRead int64 `json:"broker_disk_read_bytes"`
}

// diskReadBytes is read_bytes of /proc/pid/io, -1 if unreadable.
func diskReadBytes(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "read_bytes: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

func main() {
	var c config
	flag.StringVar(&c.addr, "addr", "127.0.0.1:5552", "stream protocol address")
	flag.StringVar(&c.user, "user", "guest", "user")
	flag.StringVar(&c.pass, "pass", "guest", "password")
	flag.StringVar(&c.vhost, "vhost", "/", "vhost")
	flag.StringVar(&c.stream, "stream", "streamperf", "stream (deleted and declared again by publish)")
	flag.StringVar(&c.mode, "mode", "publish", "publish, consume or delete (the stream)")
	flag.IntVar(&c.size, "size", 16, "message body bytes")
	flag.IntVar(&c.batch, "batch", 1000, "messages per publish frame")
	flag.IntVar(&c.window, "window", 20000, "unconfirmed messages in flight")
	flag.IntVar(&c.consumers, "consumers", 10, "consume: connections, each one subscription from first")
	flag.Int64Var(&c.messages, "messages", 0, "publish: stop after this many (0: -duration); consume: read this many each (0: the stream's size at start)")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "run time bound")
	flag.IntVar(&c.brokerPid, "broker-pid", 0, "broker pid for CPU and RSS")
	flag.IntVar(&c.credit, "credit", 20, "consume: chunk credit kept outstanding")
	flag.BoolVar(&c.keep, "keep", true, "publish: keep the stream at the end (for a consume run)")
	flag.Parse()
	res, err := run(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "streamperf:", err)
		os.Exit(1)
	}
	j, _ := json.Marshal(res)
	fmt.Printf("%s %s %d B: %d msgs in %.2fs = %.0f msg/s (%.1f MB/s)", res.Broker, res.Mode, res.Size, res.Messages, res.Seconds, res.Rate, res.MBps)
	if res.BrokerCPU > 0 {
		fmt.Printf(", broker CPU %.2fs, RSS %.0f MiB, read from disk %d B", res.BrokerCPU, res.BrokerRSSMiB, res.BrokerDiskRead)
	}
	fmt.Printf("\nRESULT %s\n", j)
}

func run(c config) (*Result, error) {
	var before perf.ProcSample
	readBefore := int64(-1)
	if c.brokerPid > 0 {
		before, _ = perf.ReadProc(c.brokerPid)
		readBefore = diskReadBytes(c.brokerPid)
	}
	var res *Result
	var err error
	switch c.mode {
	case "publish":
		res, err = publish(c)
	case "consume":
		res, err = consume(c)
	case "delete":
		cl, err := dial(c)
		if err != nil {
			return nil, err
		}
		defer cl.nc.Close()
		code, _, err := cl.rpc(14, func(b []byte) []byte { return str(b, c.stream) })
		if err != nil {
			return nil, err
		}
		return &Result{Broker: cl.product, Mode: "delete", Messages: int64(code)}, nil
	default:
		return nil, fmt.Errorf("-mode %q: publish, consume or delete", c.mode)
	}
	if err != nil {
		return nil, err
	}
	if c.brokerPid > 0 {
		if after, e := perf.ReadProc(c.brokerPid); e == nil {
			res.BrokerCPU = after.CPUSeconds - before.CPUSeconds
			res.BrokerRSSMiB = float64(after.RSSBytes) / (1 << 20)
		}
		res.BrokerDiskRead = -1
		if a := diskReadBytes(c.brokerPid); a >= 0 && readBefore >= 0 {
			res.BrokerDiskRead = a - readBefore
		}
	}
	res.MBps = res.Rate * float64(c.size) / 1e6
	return res, nil
}

// ---- the protocol, client side ----

type client struct {
	nc      net.Conn
	br      *bufio.Reader
	wmu     sync.Mutex
	corr    uint32
	product string
}

func frameBegin(b []byte, key uint16) []byte {
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(append(b, 0, 0, 0, 0), key), 1)
}

func frameEnd(b []byte, at int) []byte {
	binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	return b
}

func str(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint16(b, uint16(len(s))), s...)
}

func (c *client) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.nc.Write(b)
	return err
}

// readFrame reads a frame into buf (grown as needed): key, then the rest.
func (c *client) readFrame(buf []byte) (uint16, []byte, []byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return 0, nil, buf, err
	}
	n := int(binary.BigEndian.Uint32(h[:]))
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(c.br, buf); err != nil {
		return 0, nil, buf, err
	}
	if n < 4 {
		return 0, nil, buf, errors.New("short frame")
	}
	return binary.BigEndian.Uint16(buf) &^ 0x8000, buf[4:], buf, nil
}

// readDeliverHead is readFrame for the consumers: of a deliver it keeps
// the subscription id and chunk header and reads the entries past
// (bufio.Discard: out of the socket, not copied again), as a consumer
// counting records needs no more; other frames whole.
func (c *client) readDeliverHead(buf []byte) (uint16, []byte, []byte, error) {
	h, err := c.br.Peek(8)
	if err != nil {
		return 0, nil, buf, err
	}
	n := int(binary.BigEndian.Uint32(h))
	if binary.BigEndian.Uint16(h[4:])&^0x8000 != 8 || n < 4+1+48 {
		return c.readFrame(buf)
	}
	const head = 4 + 4 + 1 + 48
	if cap(buf) < head {
		buf = make([]byte, head)
	}
	buf = buf[:head]
	if _, err := io.ReadFull(c.br, buf); err != nil {
		return 0, nil, buf, err
	}
	if _, err := c.br.Discard(n + 4 - head); err != nil {
		return 0, nil, buf, err
	}
	return 8, buf[8:], buf, nil
}

// rpc sends a request and waits for its response (skipping other frames),
// returning the response code and the fields after it.
func (c *client) rpc(key uint16, fields func(b []byte) []byte) (uint16, []byte, error) {
	c.corr++
	corr := c.corr
	b := frameBegin(nil, key)
	b = binary.BigEndian.AppendUint32(b, corr)
	b = frameEnd(fields(b), 0)
	if err := c.write(b); err != nil {
		return 0, nil, err
	}
	var buf []byte
	for {
		k, f, nb, err := c.readFrame(buf)
		buf = nb
		if err != nil {
			return 0, nil, err
		}
		if k == key && len(f) >= 6 && binary.BigEndian.Uint32(f) == corr {
			return binary.BigEndian.Uint16(f[4:]), append([]byte(nil), f[6:]...), nil
		}
	}
}

func dial(cfg config) (*client, error) {
	nc, err := net.Dial("tcp", cfg.addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4 << 20)
		_ = tc.SetWriteBuffer(4 << 20)
	}
	c := &client{nc: nc, br: bufio.NewReaderSize(nc, 1<<20)}
	code, f, err := c.rpc(17, func(b []byte) []byte { return binary.BigEndian.AppendUint32(b, 0) })
	if err != nil || code != 1 {
		return nil, fmt.Errorf("peer properties: code %d %v", code, err)
	}
	c.product = peerProduct(f)
	if code, _, err := c.rpc(18, func(b []byte) []byte { return b }); err != nil || code != 1 {
		return nil, fmt.Errorf("sasl handshake: code %d %v", code, err)
	}
	resp := "\x00" + cfg.user + "\x00" + cfg.pass
	c.corr++
	b := frameBegin(nil, 19)
	b = binary.BigEndian.AppendUint32(b, c.corr)
	b = str(b, "PLAIN")
	b = append(binary.BigEndian.AppendUint32(b, uint32(len(resp))), resp...)
	if err := c.write(frameEnd(b, 0)); err != nil {
		return nil, err
	}
	var buf []byte
	for {
		k, f, nb, err := c.readFrame(buf)
		buf = nb
		if err != nil {
			return nil, err
		}
		if k == 19 && binary.BigEndian.Uint16(f[4:]) != 1 {
			return nil, fmt.Errorf("authentication: code %d", binary.BigEndian.Uint16(f[4:]))
		}
		if k == 20 { // tune: echo it, no heartbeats
			fm := binary.BigEndian.Uint32(f)
			t := frameBegin(nil, 20|0x8000)
			t = binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(t, fm), 0)
			if err := c.write(frameEnd(t, 0)); err != nil {
				return nil, err
			}
			break
		}
	}
	if code, _, err := c.rpc(21, func(b []byte) []byte { return str(b, cfg.vhost) }); err != nil || code != 1 {
		return nil, fmt.Errorf("open %q: code %d %v", cfg.vhost, code, err)
	}
	return c, nil
}

func peerProduct(f []byte) string {
	if len(f) < 4 {
		return "?"
	}
	n := int(binary.BigEndian.Uint32(f))
	f = f[4:]
	kv := map[string]string{}
	read := func() string {
		if len(f) < 2 {
			return ""
		}
		l := int(binary.BigEndian.Uint16(f))
		if len(f) < 2+l {
			f = nil
			return ""
		}
		s := string(f[2 : 2+l])
		f = f[2+l:]
		return s
	}
	for range n {
		k := read()
		kv[k] = read()
	}
	return kv["product"] + " " + kv["version"]
}

// amqpMessage is an AMQP 1.0 message of one data section with size bytes.
func amqpMessage(size int) []byte {
	m := []byte{0x00, 0x53, 0x75}
	if size < 256 {
		m = append(m, 0xa0, byte(size))
	} else {
		m = binary.BigEndian.AppendUint32(append(m, 0xb0), uint32(size))
	}
	return append(m, make([]byte, size)...)
}

func publish(cfg config) (*Result, error) {
	c, err := dial(cfg)
	if err != nil {
		return nil, err
	}
	defer c.nc.Close()
	_, _, _ = c.rpc(14, func(b []byte) []byte { return str(b, cfg.stream) })
	if code, _, err := c.rpc(13, func(b []byte) []byte {
		b = str(b, cfg.stream)
		b = binary.BigEndian.AppendUint32(b, 1)
		return str(str(b, "max-length-bytes"), "20000000000")
	}); err != nil || (code != 1 && code != 5) {
		return nil, fmt.Errorf("create stream: code %d %v", code, err)
	}
	if code, _, err := c.rpc(1, func(b []byte) []byte {
		return str(str(append(b, 0), ""), cfg.stream)
	}); err != nil || code != 1 {
		return nil, fmt.Errorf("declare publisher: code %d %v", code, err)
	}
	msg := amqpMessage(cfg.size)
	// One frame template: publisher 0, batch messages; ids patched in.
	frame := frameBegin(nil, 2)
	frame = append(frame, 0)
	frame = binary.BigEndian.AppendUint32(frame, uint32(cfg.batch))
	idAt := make([]int, cfg.batch)
	for i := range cfg.batch {
		idAt[i] = len(frame)
		frame = binary.BigEndian.AppendUint64(frame, 0)
		frame = binary.BigEndian.AppendUint32(frame, uint32(len(msg)))
		frame = append(frame, msg...)
	}
	frame = frameEnd(frame, 0)

	var confirmed atomic.Int64
	var readErr atomic.Value
	space := make(chan struct{}, 1)
	go func() {
		var buf []byte
		for {
			k, f, nb, err := c.readFrame(buf)
			buf = nb
			if err != nil {
				readErr.Store(err)
				close(space)
				return
			}
			switch k {
			case 3: // confirm: publisher, count, ids
				if len(f) >= 5 {
					confirmed.Add(int64(binary.BigEndian.Uint32(f[1:])))
				}
				select {
				case space <- struct{}{}:
				default:
				}
			case 4:
				readErr.Store(errors.New("publish error"))
				close(space)
				return
			}
		}
	}()
	start := time.Now()
	deadline := start.Add(cfg.duration)
	var sent int64
	next := uint64(1)
	tick := start
	lastConf := int64(0)
	for time.Now().Before(deadline) && (cfg.messages == 0 || sent < cfg.messages) {
		for sent-confirmed.Load() >= int64(cfg.window) {
			if _, ok := <-space; !ok {
				return nil, fmt.Errorf("reading: %v", readErr.Load())
			}
		}
		for i, at := range idAt {
			binary.BigEndian.PutUint64(frame[at:], next+uint64(i))
		}
		next += uint64(cfg.batch)
		if err := c.write(frame); err != nil {
			return nil, err
		}
		sent += int64(cfg.batch)
		if now := time.Now(); now.Sub(tick) >= time.Second {
			cf := confirmed.Load()
			fmt.Fprintf(os.Stderr, "publish: %.0f msg/s confirmed\n", float64(cf-lastConf)/now.Sub(tick).Seconds())
			tick, lastConf = now, cf
		}
	}
	for confirmed.Load() < sent {
		if _, ok := <-space; !ok {
			return nil, fmt.Errorf("reading: %v", readErr.Load())
		}
		if time.Since(deadline) > 30*time.Second {
			return nil, fmt.Errorf("confirms: %d of %d", confirmed.Load(), sent)
		}
	}
	el := time.Since(start).Seconds()
	n := confirmed.Load()
	return &Result{Broker: c.product, Mode: "publish", Size: cfg.size, Messages: n, Seconds: el, Rate: float64(n) / el}, nil
}

func consume(cfg config) (*Result, error) {
	want := cfg.messages
	if want == 0 {
		c, err := dial(cfg)
		if err != nil {
			return nil, err
		}
		// Stream stats: committed chunk id is the last chunk's first offset;
		// read until one past it at least (whole chunks come).
		code, f, err := c.rpc(28, func(b []byte) []byte { return str(b, cfg.stream) })
		c.nc.Close()
		if err != nil || code != 1 {
			return nil, fmt.Errorf("stream stats: code %d %v", code, err)
		}
		want = statValue(f, "committed_chunk_id") + 1
		if want <= 0 {
			return nil, errors.New("the stream is empty: run -mode publish first")
		}
	}
	var total atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, cfg.consumers)
	start := time.Now()
	product := ""
	var pmu sync.Mutex
	for range cfg.consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dial(cfg)
			if err != nil {
				errs <- err
				return
			}
			defer c.nc.Close()
			pmu.Lock()
			product = c.product
			pmu.Unlock()
			if code, _, err := c.rpc(7, func(b []byte) []byte {
				b = str(append(b, 0), cfg.stream)
				b = binary.BigEndian.AppendUint16(b, 1) // first
				return binary.BigEndian.AppendUint16(b, uint16(cfg.credit))
			}); err != nil || code != 1 {
				errs <- fmt.Errorf("subscribe: code %d %v", code, err)
				return
			}
			credit := frameEnd(binary.BigEndian.AppendUint16(append(frameBegin(nil, 9), 0), 1), 0)
			_ = c.nc.SetReadDeadline(time.Now().Add(cfg.duration + 30*time.Second))
			var got int64
			var buf []byte
			for got < want {
				k, f, nb, err := c.readDeliverHead(buf)
				buf = nb
				if err != nil {
					errs <- err
					return
				}
				if k != 8 || len(f) < 1+48 {
					continue
				}
				// sub id, then the chunk header: records at 4, first offset at 24.
				ch := f[1:]
				recs := int64(binary.BigEndian.Uint32(ch[4:]))
				first := int64(binary.BigEndian.Uint64(ch[24:]))
				if first+recs > want {
					recs = want - first
				}
				got += recs
				total.Add(recs)
				if err := c.write(credit); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		last := int64(0)
		for {
			select {
			case <-done:
				return
			case <-t.C:
				n := total.Load()
				fmt.Fprintf(os.Stderr, "consume: %d msg/s aggregate\n", n-last)
				last = n
			}
		}
	}()
	wg.Wait()
	close(done)
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	el := time.Since(start).Seconds()
	n := total.Load()
	return &Result{Broker: product, Mode: "consume", Size: cfg.size, Consumers: cfg.consumers, Messages: n, Seconds: el, Rate: float64(n) / el}, nil
}

func statValue(f []byte, key string) int64 {
	if len(f) < 4 {
		return -1
	}
	n := int(binary.BigEndian.Uint32(f))
	f = f[4:]
	for range n {
		if len(f) < 2 {
			return -1
		}
		l := int(binary.BigEndian.Uint16(f))
		if len(f) < 2+l+8 {
			return -1
		}
		k := string(f[2 : 2+l])
		v := int64(binary.BigEndian.Uint64(f[2+l:]))
		f = f[2+l+8:]
		if k == key {
			return v
		}
	}
	return -1
}
