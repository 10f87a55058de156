package fast

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/warrenmq/warren/bench/wire"
)

// ConsumerConfig describes one consumer.
type ConsumerConfig struct {
	Queue    string
	Tag      string
	Prefetch int        // basic.qos prefetch count; 0 = unlimited
	AutoAck  bool       // no-ack consume
	AckEvery int        // manual ack: one multiple ack per AckEvery deliveries
	Ready    func()     // called once consume-ok arrived; may be nil
	Args     wire.Table // basic.consume arguments (x-stream-offset); may be nil
}

// OnMessage is called once per complete delivery with the send time from the
// body's first 8 bytes (0 when the body is shorter) and the arrival time,
// both UnixNano. It must not block.
type OnMessage func(sendNs, recvNs int64)

// Consume sets QoS, starts consuming and parses deliveries in place until ctx
// ends (returns nil) or the broker closes the channel (returns the error).
// Acks are queued and written before the next blocking read.
func (c *Conn) Consume(ctx context.Context, cfg ConsumerConfig, on OnMessage) error {
	ackEvery := max(1, cfg.AckEvery)
	if !cfg.AutoAck && cfg.Prefetch > 0 && ackEvery > cfg.Prefetch/2 {
		ackEvery = max(1, cfg.Prefetch/2) // never wait on acks the broker waits for
	}
	if cfg.Prefetch > 0 {
		if err := c.Qos(cfg.Prefetch); err != nil {
			return err
		}
	}
	if _, err := c.Call(wire.AppendBasicConsumeArgs(nil, Channel, cfg.Queue, cfg.Tag, cfg.AutoAck, cfg.Args), wire.BasicConsumeOk); err != nil {
		return wrap(err, "basic.consume", cfg.Queue)
	}
	if cfg.Ready != nil {
		cfg.Ready()
	}
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetReadDeadline(time.Now()) })
	defer stop()

	var (
		tag       uint64
		remaining uint64
		sendNs    int64
		inBody    bool
		unacked   int
		ack       = make([]byte, 0, 64)
	)
	for {
		f, err := c.Next()
		if err != nil {
			if ctx.Err() != nil {
				return c.Flush() // the last multiple ack, if one is queued
			}
			return err
		}
		complete := false
		switch f.Type {
		case wire.FrameMethod:
			id, args, err := wire.Method(f.Payload)
			if err != nil {
				return err
			}
			switch id {
			case wire.BasicDeliver:
				d, err := wire.ParseDeliver(args)
				if err != nil {
					return err
				}
				tag, sendNs, inBody = d.Tag, 0, false
			case wire.ChannelClose, wire.ConnectionClose:
				return wire.ParseClose(f.Channel, args)
			case wire.BasicCancel:
				return fmt.Errorf("fast: consumer on %q cancelled by broker", cfg.Queue)
			}
		case wire.FrameHeader:
			_, size, err := wire.ParseContentHeader(f.Payload)
			if err != nil {
				return err
			}
			remaining, inBody = size, true
			complete = size == 0
		case wire.FrameBody:
			if !inBody {
				return fmt.Errorf("fast: body frame without header")
			}
			if sendNs == 0 && len(f.Payload) >= 8 {
				sendNs = int64(binary.BigEndian.Uint64(f.Payload))
			}
			remaining -= uint64(len(f.Payload))
			complete = remaining == 0
		}
		if !complete {
			continue
		}
		inBody = false
		on(sendNs, c.readNs)
		if cfg.AutoAck {
			continue
		}
		if unacked++; unacked >= ackEvery {
			unacked = 0
			if err := c.QueueWrite(wire.AppendBasicAck(ack[:0], Channel, tag, true)); err != nil {
				return err
			}
		}
	}
}
