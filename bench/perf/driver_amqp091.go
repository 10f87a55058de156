package perf

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/bench/wire"
)

// amqpClient drives the broker with github.com/rabbitmq/amqp091-go used the
// ordinary way: one Publish call and one Delivery per message.
type amqpClient struct{}

// dialAMQP dials with heartbeats off and keeps the socket so a blocked
// publish can be interrupted.
func dialAMQP(uri string) (*amqp.Connection, *amqp.Channel, net.Conn, error) {
	var nc net.Conn
	conn, err := amqp.DialConfig(uri, amqp.Config{
		Heartbeat:       0,
		TLSClientConfig: TLS,
		Dial: func(network, addr string) (net.Conn, error) {
			c, err := net.DialTimeout(network, addr, dialTimeout)
			nc = c
			return c, err
		},
	})
	if err != nil {
		return nil, nil, nil, err
	}
	ch, err := conn.Channel()
	if err != nil {
		conn.Close()
		return nil, nil, nil, err
	}
	return conn, ch, nc, nil
}

type amqpAdmin struct {
	conn *amqp.Connection
	ch   *amqp.Channel
}

func (amqpClient) Admin(cfg *Config) (admin, error) {
	conn, ch, _, err := dialAMQP(cfg.URI)
	if err != nil {
		return nil, err
	}
	return amqpAdmin{conn, ch}, nil
}

func (a amqpAdmin) DeclareExchange(name, kind string, durable bool) error {
	return a.ch.ExchangeDeclare(name, kind, durable, false, false, false, nil)
}
func (a amqpAdmin) DeleteExchange(name string) error {
	return a.ch.ExchangeDelete(name, false, false)
}
func (a amqpAdmin) DeclareQueue(name string, durable bool, args wire.Table) error {
	var t amqp.Table
	if len(args) > 0 {
		t = amqp.Table{}
		for _, f := range args {
			t[f.Key] = f.Value
		}
	}
	_, err := a.ch.QueueDeclare(name, durable, false, false, false, t)
	return err
}
func (a amqpAdmin) DeleteQueue(name string) error {
	_, err := a.ch.QueueDelete(name, false, false, false)
	return err
}
func (a amqpAdmin) BindQueue(queue, exchange, key string) error {
	return a.ch.QueueBind(queue, key, exchange, false, nil)
}
func (a amqpAdmin) Close() error { return a.conn.Close() }

type amqpProducer struct {
	conn     *amqp.Connection
	ch       *amqp.Channel
	nc       net.Conn
	exchange string
	keys     []string
	next     int
	prios    int // > 0: priorities 0..prios-1 in turn
	nprio    int
	msg      amqp.Publishing
	settled  atomic.Uint64
	nacked   atomic.Uint64
	wake     chan struct{}
	closed   chan *amqp.Error
	cut      atomic.Bool // Interrupt was called
}

func (amqpClient) Producer(cfg *Config, keys []string) (producer, error) {
	conn, ch, nc, err := dialAMQP(cfg.URI)
	if err != nil {
		return nil, err
	}
	p := &amqpProducer{conn: conn, ch: ch, nc: nc, exchange: cfg.Exchange, keys: keys,
		wake: make(chan struct{}, 1), closed: ch.NotifyClose(make(chan *amqp.Error, 1))}
	if len(p.keys) == 0 {
		p.keys = []string{""}
	}
	p.msg.Body = make([]byte, cfg.Size)
	for i := range p.msg.Body {
		p.msg.Body[i] = byte('a' + i%26)
	}
	if cfg.Persistent {
		p.msg.DeliveryMode = amqp.Persistent
	}
	p.msg.Expiration = cfg.Expiration
	p.prios = cfg.Priorities
	if cfg.Confirm > 0 {
		if err := ch.Confirm(false); err != nil {
			conn.Close()
			return nil, err
		}
		confirms := ch.NotifyPublish(make(chan amqp.Confirmation, cfg.Confirm+1))
		go func() {
			for c := range confirms {
				if !c.Ack {
					p.nacked.Add(1)
				}
				p.settled.Add(1)
				select {
				case p.wake <- struct{}{}:
				default:
				}
			}
		}()
	}
	return p, nil
}

func (p *amqpProducer) MaxBatch() int { return 64 }

func (p *amqpProducer) Publish(n int) error {
	for i := 0; i < n; i++ {
		if len(p.msg.Body) >= 8 {
			binary.BigEndian.PutUint64(p.msg.Body, uint64(time.Now().UnixNano()))
		}
		if p.prios > 0 {
			p.msg.Priority = uint8(p.nprio)
			if p.nprio++; p.nprio == p.prios {
				p.nprio = 0
			}
		}
		key := p.keys[p.next]
		if p.next++; p.next == len(p.keys) {
			p.next = 0
		}
		if err := p.ch.PublishWithContext(context.Background(), p.exchange, key, false, false, p.msg); err != nil {
			return err
		}
	}
	return nil
}

func (p *amqpProducer) Confirmed() uint64 { return p.settled.Load() }
func (p *amqpProducer) Nacked() uint64    { return p.nacked.Load() }

func (p *amqpProducer) WaitConfirmed(ctx context.Context, n uint64) error {
	for p.settled.Load() < n {
		select {
		case <-p.wake:
		case e := <-p.closed:
			if e == nil {
				return errors.New("amqp091: channel closed")
			}
			return e
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (p *amqpProducer) Sync(ctx context.Context) error { return p.ch.Qos(0, 0, false) }

func (p *amqpProducer) Interrupt() {
	p.cut.Store(true)
	_ = p.nc.SetWriteDeadline(time.Now())
}

// Close closes politely unless a publish was cut off mid-frame, in which
// case the socket is just closed.
func (p *amqpProducer) Close() error {
	if p.cut.Load() {
		p.nc.Close()
		_ = p.conn.Close() // releases the library's state; the error is expected
		return nil
	}
	return p.conn.CloseDeadline(time.Now().Add(time.Second))
}

func (amqpClient) Consume(ctx context.Context, cfg *Config, queue, tag string, ready func(), on onMessage) error {
	conn, ch, _, err := dialAMQP(cfg.URI)
	if err != nil {
		return err
	}
	defer conn.CloseDeadline(time.Now().Add(time.Second))
	if cfg.Prefetch > 0 {
		if err := ch.Qos(min(cfg.Prefetch, 65535), 0, false); err != nil {
			return err
		}
	}
	var args amqp.Table
	for _, f := range ConsumeArgs(cfg) {
		if args == nil {
			args = amqp.Table{}
		}
		args[f.Key] = f.Value
	}
	deliveries, err := ch.Consume(queue, tag, cfg.AutoAck, false, false, false, args)
	if err != nil {
		return err
	}
	ready()
	ackEvery := max(1, cfg.MultiAck)
	if cfg.Prefetch > 0 && ackEvery > cfg.Prefetch/2 {
		ackEvery = max(1, cfg.Prefetch/2)
	}
	unacked := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case d, ok := <-deliveries:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return errors.New("amqp091: delivery channel closed")
			}
			var sendNs int64
			if len(d.Body) >= 8 {
				sendNs = int64(binary.BigEndian.Uint64(d.Body))
			}
			on(sendNs, time.Now().UnixNano())
			if cfg.AutoAck {
				continue
			}
			if unacked++; unacked >= ackEvery {
				unacked = 0
				if err := d.Ack(true); err != nil {
					return err
				}
			}
		}
	}
}
