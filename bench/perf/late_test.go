package perf

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warrenmq/warren/bench/wire"
)

// slowCloseClient's producers take closeDelay to close, while its consumer
// keeps delivering one message per millisecond: the end of a run with many
// connections, where closing them takes seconds.
type slowCloseClient struct{ closeDelay time.Duration }

type nopAdmin struct{}

func (nopAdmin) DeclareExchange(string, string, bool) error  { return nil }
func (nopAdmin) DeleteExchange(string) error                 { return nil }
func (nopAdmin) DeclareQueue(string, bool, wire.Table) error { return nil }
func (nopAdmin) DeleteQueue(string) error                    { return nil }
func (nopAdmin) BindQueue(string, string, string) error      { return nil }
func (nopAdmin) Close() error                                { return nil }
func (slowCloseClient) Admin(*Config) (admin, error)         { return nopAdmin{}, nil }
func (c slowCloseClient) Producer(*Config, []string) (producer, error) {
	return &slowProducer{delay: c.closeDelay}, nil
}

type slowProducer struct {
	delay time.Duration
	n     atomic.Uint64
}

func (p *slowProducer) MaxBatch() int                               { return 1 }
func (p *slowProducer) Publish(n int) error                         { p.n.Add(uint64(n)); return nil }
func (p *slowProducer) Confirmed() uint64                           { return 0 }
func (p *slowProducer) Nacked() uint64                              { return 0 }
func (p *slowProducer) WaitConfirmed(context.Context, uint64) error { return nil }
func (p *slowProducer) Sync(context.Context) error                  { return nil }
func (p *slowProducer) Interrupt()                                  {}
func (p *slowProducer) Close() error                                { time.Sleep(p.delay); return nil }

func (slowCloseClient) Consume(ctx context.Context, cfg *Config, queue, tag string, ready func(), on onMessage) error {
	ready()
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			now := time.Now().UnixNano()
			on(now, now)
		}
	}
}

// Deliveries that arrive while connections close, after the measured
// interval, are not in the delivered rate (they were once: a RabbitMQ run
// with 532 connections reported a deliver rate it never reached).
func TestDeliveriesAfterTheEndAreLate(t *testing.T) {
	cfg := Defaults()
	cfg.Duration, cfg.Rate, cfg.AutoAck, cfg.Progress = 300*time.Millisecond, 1000, true, false
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	topo := BuildTopology(&cfg)
	res, err := execute(slowCloseClient{closeDelay: 700 * time.Millisecond}, &cfg, &topo, nil, time.Now().UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	// At most one delivery a millisecond during the 300 ms run.
	if res.DeliverRate > 1100 {
		t.Errorf("deliver rate %.0f/s counts deliveries after the end (delivered %d, late %d, %.2f s)",
			res.DeliverRate, res.Delivered, res.Late, res.Seconds)
	}
	if res.Late < 100 {
		t.Errorf("late %d: want the ~700 deliveries made while the producer closed", res.Late)
	}
}
