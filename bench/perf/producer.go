package perf

import (
	"context"
	"time"
)

// interruptAfter is how long past the deadline a blocked publish may take.
const interruptAfter = 200 * time.Millisecond

// produce publishes until ctx ends or limit messages are sent (0 = no
// limit), keeping at most cfg.Confirm unconfirmed and pacing to rate msg/s
// (0 = unpaced). After a limit is reached it waits for the last confirms,
// or without confirms round-trips Sync, so the end time is broker-side.
func produce(ctx context.Context, cfg *Config, p producer, st *producerStat, limit int64, rate float64) error {
	// A publish blocked by broker flow control past the deadline is cut
	// off; a loop that notices the deadline by itself is left alone so its
	// connection can close politely.
	returned := make(chan struct{})
	defer close(returned)
	stop := context.AfterFunc(ctx, func() {
		select {
		case <-returned:
		case <-time.After(interruptAfter):
			p.Interrupt()
		}
	})
	defer stop()
	maxBatch := int64(p.MaxBatch())
	window := int64(cfg.Confirm)
	start := time.Now()
	var sent int64
	for ctx.Err() == nil && (limit == 0 || sent < limit) {
		n := maxBatch
		if limit > 0 {
			n = min(n, limit-sent)
		}
		if window > 0 {
			room := window - (sent - int64(p.Confirmed()))
			if room <= 0 {
				if err := p.WaitConfirmed(ctx, uint64(sent-window+1)); err != nil {
					return quiet(ctx, err)
				}
				continue
			}
			n = min(n, room)
		}
		if rate > 0 {
			elapsed := time.Since(start)
			due := int64(rate*elapsed.Seconds()) + 1 - sent
			if due <= 0 {
				next := time.Duration(float64(sent) / rate * float64(time.Second))
				sleep(ctx, next-elapsed)
				continue
			}
			n = min(n, due)
		}
		if err := p.Publish(int(n)); err != nil {
			return quiet(ctx, err)
		}
		sent += n
		st.published.Store(sent)
	}
	if ctx.Err() != nil {
		return nil
	}
	if window > 0 {
		return quiet(ctx, p.WaitConfirmed(ctx, uint64(sent)))
	}
	return quiet(ctx, p.Sync(ctx))
}

// quiet drops errors caused by the run ending.
func quiet(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
