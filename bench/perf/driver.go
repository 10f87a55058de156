package perf

import (
	"context"
	"fmt"
	"time"

	"github.com/warrenmq/warren/bench/wire"
)

// producer is one publishing connection of either client.
type producer interface {
	MaxBatch() int                                     // most messages per Publish
	Publish(n int) error                               // send n stamped messages
	Confirmed() uint64                                 // publishes settled (ack or nack)
	Nacked() uint64                                    // publishes nacked
	WaitConfirmed(ctx context.Context, n uint64) error // until Confirmed() >= n
	Sync(ctx context.Context) error                    // round trip after the last publish
	Interrupt()                                        // unblock a Publish stuck on flow control
	Close() error
}

// admin declares and deletes topology on one connection.
type admin interface {
	DeclareExchange(name, kind string, durable bool) error
	DeleteExchange(name string) error
	DeclareQueue(name string, durable bool, args wire.Table) error
	DeleteQueue(name string) error
	BindQueue(queue, exchange, key string) error
	Close() error
}

// onMessage receives the send and arrival times (UnixNano) of a delivery.
type onMessage func(sendNs, recvNs int64)

// client is one of the two client implementations.
type client interface {
	Admin(cfg *Config) (admin, error)
	Producer(cfg *Config, keys []string) (producer, error)
	// Consume runs one consumer until ctx ends (nil) or it fails; ready is
	// called once the broker has accepted the subscription.
	Consume(ctx context.Context, cfg *Config, queue, tag string, ready func(), on onMessage) error
}

const dialTimeout = 10 * time.Second

func newClient(name string) (client, error) {
	switch name {
	case "fast":
		return fastClient{}, nil
	case "amqp091":
		return amqpClient{}, nil
	}
	return nil, fmt.Errorf("unknown client %q", name)
}

// setupTopology deletes leftovers (so durability and type changes apply),
// then declares the exchange, queues and bindings.
func setupTopology(a admin, cfg *Config, t *Topology) error {
	for _, q := range t.DLQs {
		if err := a.DeleteQueue(q); err != nil {
			return err
		}
		if err := a.DeclareQueue(q, cfg.Durable, nil); err != nil {
			return err
		}
	}
	for i, q := range t.Queues {
		if err := a.DeleteQueue(q); err != nil {
			return err
		}
		if err := a.DeclareQueue(q, cfg.Durable, t.QueueArgs(cfg, i)); err != nil {
			return err
		}
	}
	if cfg.Type == "" {
		return nil
	}
	if err := a.DeleteExchange(cfg.Exchange); err != nil {
		return err
	}
	if err := a.DeclareExchange(cfg.Exchange, cfg.Type, cfg.Durable); err != nil {
		return err
	}
	for _, b := range t.Bindings {
		if err := a.BindQueue(b.Queue, cfg.Exchange, b.Key); err != nil {
			return err
		}
	}
	return nil
}

// teardownTopology deletes the run's queues and exchange.
func teardownTopology(a admin, cfg *Config, t *Topology) error {
	for _, q := range append(t.Queues[:len(t.Queues):len(t.Queues)], t.DLQs...) {
		if err := a.DeleteQueue(q); err != nil {
			return err
		}
	}
	if cfg.Type != "" {
		return a.DeleteExchange(cfg.Exchange)
	}
	return nil
}
