package main

import (
	"context"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// confirmWindow keeps at most size publishes of one channel awaiting their
// confirms, as a confirming publisher with a window does: the crash, full
// disk and shutdown tests all track which sequence numbers were confirmed
// through one of these.
type confirmWindow struct {
	ch      *amqp.Channel
	size    int
	settle  func(seq uint64, acked bool) // called once per publish, in order
	pending []pendingConfirm
}

type pendingConfirm struct {
	seq uint64
	dc  *amqp.DeferredConfirmation
}

// publish sends msg as seq and, while the window is full, waits for the
// oldest confirm; it returns ctx's error if ctx ends while waiting, or the
// publish error.
func (w *confirmWindow) publish(ctx context.Context, exchange, key string, seq uint64, msg amqp.Publishing) error {
	dc, err := w.ch.PublishWithDeferredConfirmWithContext(context.Background(), exchange, key, false, false, msg)
	if err != nil {
		return err
	}
	w.pending = append(w.pending, pendingConfirm{seq, dc})
	for len(w.pending) >= w.size {
		select {
		case <-w.pending[0].dc.Done():
			w.settleOldest()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (w *confirmWindow) settleOldest() {
	p := w.pending[0]
	w.pending = w.pending[1:]
	w.settle(p.seq, p.dc.Acked())
}

// drain settles every outstanding publish: each resolves by its ack, its
// nack or the connection closing. It returns the sequence numbers still
// unresolved after timeout (a confirm that never came).
func (w *confirmWindow) drain(timeout time.Duration) (unresolved []uint64) {
	deadline := time.After(timeout)
	for len(w.pending) > 0 {
		select {
		case <-w.pending[0].dc.Done():
			w.settleOldest()
		case <-deadline:
			for _, p := range w.pending {
				unresolved = append(unresolved, p.seq)
			}
			w.pending = nil
			return unresolved
		}
	}
	return nil
}
