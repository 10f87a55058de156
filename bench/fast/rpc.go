package fast

import (
	"fmt"

	"github.com/warrenmq/warren/bench/wire"
)

// expect reads frames until a method frame with id want arrives, and
// returns its arguments (a view valid until the next read). A close from the
// broker is answered and returned as *wire.CloseError. Other frames are
// skipped. Only for setup, before any reader goroutine owns the connection.
func (c *Conn) expect(want uint32) ([]byte, error) {
	for {
		f, err := c.Next()
		if err != nil {
			return nil, err
		}
		if f.Type != wire.FrameMethod {
			continue
		}
		id, args, err := wire.Method(f.Payload)
		if err != nil {
			return nil, err
		}
		switch id {
		case want:
			return args, nil
		case wire.ConnectionClose, wire.ChannelClose:
			e := wire.ParseClose(f.Channel, args)
			_ = c.write(wire.AppendCloseOk(nil, f.Channel))
			return nil, e
		}
	}
}

// Call writes a request and waits for the reply method want.
func (c *Conn) Call(req []byte, want uint32) ([]byte, error) {
	if err := c.write(req); err != nil {
		return nil, err
	}
	return c.expect(want)
}

// DeclareExchange declares an exchange of kind.
func (c *Conn) DeclareExchange(name, kind string, durable bool) error {
	_, err := c.Call(wire.AppendExchangeDeclare(nil, Channel, name, kind, durable, false), wire.ExchangeDeclareOk)
	return wrap(err, "exchange.declare", name)
}

// DeleteExchange deletes an exchange.
func (c *Conn) DeleteExchange(name string) error {
	_, err := c.Call(wire.AppendExchangeDelete(nil, Channel, name), wire.ExchangeDeleteOk)
	return wrap(err, "exchange.delete", name)
}

// DeclareQueue declares a queue and returns its message count.
func (c *Conn) DeclareQueue(name string, durable bool) (uint32, error) {
	return c.DeclareQueueArgs(name, durable, nil)
}

// DeclareQueueArgs declares a queue with arguments and returns its message count.
func (c *Conn) DeclareQueueArgs(name string, durable bool, qargs wire.Table) (uint32, error) {
	args, err := c.Call(wire.AppendQueueDeclareArgs(nil, Channel, name, false, durable, false, false, qargs), wire.QueueDeclareOk)
	if err != nil {
		return 0, wrap(err, "queue.declare", name)
	}
	a := wire.NewArgs(args)
	a.Shortstr()
	return a.Long(), a.Err()
}

// DeleteQueue deletes a queue (a missing queue is not an error on 0-9-1).
func (c *Conn) DeleteQueue(name string) error {
	_, err := c.Call(wire.AppendQueueDelete(nil, Channel, name), wire.QueueDeleteOk)
	return wrap(err, "queue.delete", name)
}

// BindQueue binds queue to exchange with key.
func (c *Conn) BindQueue(queue, exchange, key string) error {
	_, err := c.Call(wire.AppendQueueBind(nil, Channel, queue, exchange, key), wire.QueueBindOk)
	return wrap(err, "queue.bind", queue+"<-"+exchange+"/"+key)
}

// Qos sets the channel's prefetch count (clamped to 65535; 0 = unlimited).
func (c *Conn) Qos(prefetch int) error {
	_, err := c.Call(wire.AppendBasicQos(nil, Channel, uint16(min(prefetch, 65535))), wire.BasicQosOk)
	return wrap(err, "basic.qos", "")
}

// ConfirmSelect puts the channel in confirm mode.
func (c *Conn) ConfirmSelect() error {
	_, err := c.Call(wire.AppendConfirmSelect(nil, Channel), wire.ConfirmSelectOk)
	return wrap(err, "confirm.select", "")
}

func wrap(err error, op, what string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %s: %w", op, what, err)
}
