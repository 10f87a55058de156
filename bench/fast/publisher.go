package fast

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/warrenmq/warren/bench/wire"
)

// PublisherConfig describes the messages a Publisher sends.
type PublisherConfig struct {
	Exchange   string
	Keys       []string // routing keys, used in turn
	Size       int      // body bytes; the first 8 carry the send time when Size >= 8
	Persistent bool
	Priorities int    // > 0: message priorities 0..Priorities-1 in turn
	Expiration string // per-message TTL (ms, decimal), "" = none
	Confirms   int    // confirm window; 0 = no confirm mode
	BatchBytes int    // target bytes per write; default 256 KiB
}

// Publisher writes pre-encoded publishes in batches: a template of M
// complete publishes is encoded once (twice over, back to back, so any run
// of up to M slots starting anywhere is contiguous); Publish patches the
// timestamps of the next n slots and writes them with one syscall.
type Publisher struct {
	c    *Conn
	tmpl []byte
	offs []int // offs[i] = start of slot i; offs[2M] = len(tmpl)
	ts   []int // ts[i] = body offset of slot i, or -1
	m    int
	next int

	conf   *confirmTracker
	dead   chan struct{}
	once   sync.Once
	err    error
	sync   chan struct{}
	broken bool // a write failed part way: no polite close
}

// NewPublisher prepares the template, enables confirms if asked, and starts
// the goroutine that reads confirms and broker errors.
func NewPublisher(c *Conn, cfg PublisherConfig) (*Publisher, error) {
	keys := cfg.Keys
	if len(keys) == 0 {
		keys = []string{""}
	}
	batch := cfg.BatchBytes
	if batch <= 0 {
		batch = 256 << 10
	}
	var props wire.Props
	if cfg.Persistent {
		props.DeliveryMode = wire.DeliveryPersistent
	}
	props.Expiration = cfg.Expiration
	props.HasPriority = cfg.Priorities > 0
	per := wire.PublishSizeProps(cfg.Exchange, keys[0], cfg.Size, props, c.FrameMax)
	m := max(1, batch/per)
	if len(keys) > 1 && m >= len(keys) {
		m -= m % len(keys) // every key equally often
	}
	p := &Publisher{c: c, m: m, dead: make(chan struct{}), sync: make(chan struct{}, 1)}
	body := make([]byte, cfg.Size)
	for i := range body {
		body[i] = byte('a' + i%26)
	}
	p.tmpl = make([]byte, 0, 2*m*(per+16))
	for i := 0; i < 2*m; i++ {
		p.offs = append(p.offs, len(p.tmpl))
		var off int
		if cfg.Priorities > 0 {
			props.Priority = uint8(i % m % cfg.Priorities)
		}
		p.tmpl, off = wire.AppendPublishProps(p.tmpl, Channel, cfg.Exchange, keys[i%m%len(keys)], body, props, c.FrameMax)
		if cfg.Size < 8 {
			off = -1
		}
		p.ts = append(p.ts, off)
	}
	p.offs = append(p.offs, len(p.tmpl))
	if cfg.Confirms > 0 {
		if err := c.ConfirmSelect(); err != nil {
			return nil, err
		}
		p.conf = newConfirmTracker(cfg.Confirms)
	}
	go p.readLoop()
	return p, nil
}

// MaxBatch is the most messages one Publish call sends.
func (p *Publisher) MaxBatch() int { return p.m }

// Publish sends the next n (1..MaxBatch) messages, stamped with the current
// time, in one write.
func (p *Publisher) Publish(n int) error {
	if n < 1 || n > p.m {
		return errors.New("fast: batch size out of range")
	}
	select {
	case <-p.dead:
		return p.err
	default:
	}
	s, e := p.next, p.next+n
	now := uint64(time.Now().UnixNano())
	for i := s; i < e; i++ {
		if o := p.ts[i]; o >= 0 {
			binary.BigEndian.PutUint64(p.tmpl[o:], now)
		}
	}
	if err := p.c.write(p.tmpl[p.offs[s]:p.offs[e]]); err != nil {
		p.broken = true
		return err
	}
	p.next = e % p.m
	return nil
}

// Confirmed is the number of publishes settled by the broker (ack or nack).
func (p *Publisher) Confirmed() uint64 {
	if p.conf == nil {
		return 0
	}
	return p.conf.confirmed.Load()
}

// Nacked is the number of publishes the broker nacked.
func (p *Publisher) Nacked() uint64 {
	if p.conf == nil {
		return 0
	}
	return p.conf.nacked.Load()
}

// WaitConfirmed blocks until at least target publishes are settled.
func (p *Publisher) WaitConfirmed(ctx context.Context, target uint64) error {
	if p.conf == nil {
		return nil
	}
	for p.conf.confirmed.Load() < target {
		select {
		case <-p.conf.wake:
		case <-p.dead:
			return p.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Sync round-trips basic.qos on the publishing channel: when it returns the
// broker has processed every publish sent before it.
func (p *Publisher) Sync(ctx context.Context) error {
	if err := p.c.write(wire.AppendBasicQos(nil, Channel, 0)); err != nil {
		p.broken = true
		return err
	}
	select {
	case <-p.sync:
		return nil
	case <-p.dead:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Err is the error that stopped the reader, if any.
func (p *Publisher) Err() error {
	select {
	case <-p.dead:
		return p.err
	default:
		return nil
	}
}

// Interrupt unblocks a Publish stuck in a write (broker flow control); the
// connection is then closed without the close handshake.
func (p *Publisher) Interrupt() { _ = p.c.nc.SetWriteDeadline(time.Now()) }

// Close stops the reader and closes the connection. Call it after the last
// Publish returned.
func (p *Publisher) Close() error {
	_ = p.c.SetDeadline(time.Now())
	<-p.dead
	_ = p.c.SetDeadline(time.Time{})
	if p.broken || !IsTimeout(p.err) {
		return p.c.Abort()
	}
	return p.c.Close()
}

func (p *Publisher) readLoop() {
	err := p.read()
	p.once.Do(func() { p.err = err; close(p.dead) })
}

func (p *Publisher) read() error {
	for {
		f, err := p.c.Next()
		if err != nil {
			return err
		}
		if f.Type != wire.FrameMethod {
			continue
		}
		id, args, err := wire.Method(f.Payload)
		if err != nil {
			return err
		}
		switch id {
		case wire.BasicAck, wire.BasicNack:
			tag, multiple, err := wire.ParseAck(args)
			if err != nil {
				return err
			}
			if p.conf != nil {
				p.conf.settle(tag, multiple, id == wire.BasicNack)
			}
		case wire.BasicQosOk:
			select {
			case p.sync <- struct{}{}:
			default:
			}
		case wire.ConnectionClose, wire.ChannelClose:
			return wire.ParseClose(f.Channel, args)
		}
	}
}
