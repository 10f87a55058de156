// Package sink is a null AMQP 0-9-1 server for measuring the load clients
// themselves: it completes the handshake, answers every synchronous method
// with its -ok, discards publishes (acking them in confirm mode, one
// multiple ack per read) and never delivers anything.
package sink

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"github.com/warrenmq/warren/bench/wire"
)

// Server counts what it discarded.
type Server struct {
	Published atomic.Int64
	wg        sync.WaitGroup
}

// Serve accepts connections until ln is closed, then waits for them to end.
func (s *Server) Serve(ln net.Listener) error {
	defer s.wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			_ = s.conn(c)
		}()
	}
}

// connState is one connection's confirm bookkeeping per channel.
type connState struct {
	confirming map[uint16]bool
	tags       map[uint16]uint64
	out        []byte
}

func (s *Server) conn(c net.Conn) error {
	buf := make([]byte, 1<<20)
	if _, err := io.ReadFull(c, buf[:8]); err != nil {
		return err
	}
	st := &connState{confirming: map[uint16]bool{}, tags: map[uint16]uint64{}}
	start, s0 := wire.AppendMethodHeader(nil, 0, wire.ConnectionStart)
	start = append(start, 0, 9)
	start = wire.AppendTable(start, wire.Table{{Key: "product", Value: "warren-perf sink"}})
	start = wire.AppendLongstr(start, "PLAIN")
	start = wire.AppendLongstr(start, "en_US")
	if _, err := c.Write(wire.EndFrame(start, s0)); err != nil {
		return err
	}
	r, w := 0, 0
	for {
		for {
			f, n, err := wire.ParseFrame(buf[r:w], 0)
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
			r += n
			if f.Type == wire.FrameMethod {
				if done := s.method(st, f); done {
					_, err := c.Write(st.out)
					return err
				}
			}
		}
		for ch, on := range st.confirming {
			if on && st.tags[ch] > 0 {
				st.out = wire.AppendBasicAck(st.out, ch, st.tags[ch], true)
			}
		}
		if len(st.out) > 0 {
			if _, err := c.Write(st.out); err != nil {
				return err
			}
			st.out = st.out[:0]
		}
		if r == w {
			r, w = 0, 0
		} else if len(buf)-w < 256<<10 {
			w = copy(buf, buf[r:w])
			r = 0
		}
		n, err := c.Read(buf[w:])
		if err != nil {
			return err
		}
		w += n
	}
}

// method answers one method frame; it reports true after connection.close.
func (s *Server) method(st *connState, f wire.Frame) bool {
	id, args, err := wire.Method(f.Payload)
	if err != nil {
		return true
	}
	ch := f.Channel
	reply := func(id uint32, args ...byte) {
		var start int
		st.out, start = wire.AppendMethodHeader(st.out, ch, id)
		st.out = wire.EndFrame(append(st.out, args...), start)
	}
	switch id {
	case wire.BasicPublish:
		s.Published.Add(1)
		if st.confirming[ch] {
			st.tags[ch]++
		}
	case wire.ConnectionStartOk:
		reply(wire.ConnectionTune, 0x07, 0xFF, 0, 2, 0, 0, 0, 0) // 2047 channels, 128 KiB frames, no heartbeat
	case wire.ConnectionOpen:
		reply(wire.ConnectionOpenOk, 0)
	case wire.ChannelOpen:
		reply(wire.ChannelOpenOk, 0, 0, 0, 0)
	case wire.ExchangeDeclare:
		reply(wire.ExchangeDeclareOk)
	case wire.ExchangeDelete:
		reply(wire.ExchangeDeleteOk)
	case wire.QueueDeclare:
		a := wire.NewArgs(args)
		a.Short()
		name := a.Shortstr()
		reply(wire.QueueDeclareOk, append(wire.AppendShortstr(nil, string(name)), 0, 0, 0, 0, 0, 0, 0, 0)...)
	case wire.QueueDelete, wire.QueuePurge:
		reply(id+1, 0, 0, 0, 0)
	case wire.QueueBind, wire.BasicQos:
		reply(id + 1)
	case wire.ConfirmSelect:
		st.confirming[ch] = true
		reply(wire.ConfirmSelectOk)
	case wire.BasicConsume:
		a := wire.NewArgs(args)
		a.Short()
		a.Shortstr()
		tag := a.Shortstr()
		reply(wire.BasicConsumeOk, wire.AppendShortstr(nil, string(tag))...)
	case wire.ChannelClose:
		reply(wire.ChannelCloseOk)
	case wire.ConnectionClose:
		ch = 0
		reply(wire.ConnectionCloseOk)
		return true
	}
	return false
}
