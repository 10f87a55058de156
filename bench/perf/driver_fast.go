package perf

import (
	"context"

	"github.com/warrenmq/warren/bench/fast"
	"github.com/warrenmq/warren/bench/wire"
)

// fastClient drives the broker with the raw-frame client in package fast.
type fastClient struct{}

type fastAdmin struct{ *fast.Conn }

func (a fastAdmin) DeclareQueue(name string, durable bool, args wire.Table) error {
	_, err := a.Conn.DeclareQueueArgs(name, durable, args)
	return err
}

func (fastClient) Admin(cfg *Config) (admin, error) {
	c, err := fast.Dial(cfg.URI, dialTimeout)
	if err != nil {
		return nil, err
	}
	return fastAdmin{c}, nil
}

func (fastClient) Producer(cfg *Config, keys []string) (producer, error) {
	c, err := fast.Dial(cfg.URI, dialTimeout)
	if err != nil {
		return nil, err
	}
	p, err := fast.NewPublisher(c, fast.PublisherConfig{
		Exchange: cfg.Exchange, Keys: keys, Size: cfg.Size, Persistent: cfg.Persistent,
		Confirms: cfg.Confirm, BatchBytes: cfg.BatchBytes, Priorities: cfg.Priorities, Expiration: cfg.Expiration,
	})
	if err != nil {
		c.Abort()
		return nil, err
	}
	return p, nil
}

func (fastClient) Consume(ctx context.Context, cfg *Config, queue, tag string, ready func(), on onMessage) error {
	c, err := fast.Dial(cfg.URI, dialTimeout)
	if err != nil {
		return err
	}
	err = c.Consume(ctx, fast.ConsumerConfig{
		Queue: queue, Tag: tag, Prefetch: cfg.Prefetch, AutoAck: cfg.AutoAck, AckEvery: cfg.MultiAck, Ready: ready,
		Args: ConsumeArgs(cfg),
	}, fast.OnMessage(on))
	if err != nil {
		c.Abort()
		return err
	}
	return c.Close()
}
