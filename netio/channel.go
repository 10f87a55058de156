package netio

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"sync/atomic"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// channel is one AMQP channel. Fields above mu are touched only on the
// connection's loop; mu guards delivery tags and the unacked list, which
// deliveries from other goroutines also touch.
type channel struct {
	id      uint16
	c       *Conn
	closing bool // we sent channel.close and wait for close-ok
	// admitted: the channel holds a slot of its user's max-channels
	// (limits_vhost_user.go).
	admitted bool

	pub       publishState
	pubCache  broker.PublishCache
	lastQueue string

	consumers        map[string]*consumer
	prefetchConsumer int32
	globalPrefetch   atomic.Int32
	unackedN         atomic.Int32 // counted against globalPrefetch

	confirm       bool
	pubSeq        uint64
	pendingSync   []syncWait
	pendingQs     []*broker.Queue // the queues of pendingSync's publishes, in order (confirm.go)
	confirmedUpTo uint64
	ackedUpTo     uint64

	tx       bool
	txPubs   []txPublish
	txAcks   []txAck
	txCommit *txCommit // a tx.commit not answered yet (tx.go)
	txTally  txTally   // the deliveries txAcks cover (channel_state.go)

	mu          sync.Mutex
	deliveryTag uint64
	unacked     unackedList
	replyTo     replyState // direct reply-to consumer (replyto.go)

	scratch []settledRun

	entry broker.ChannelEntry // the broker registry's view: counters, consumers
}

type syncWait struct {
	seq       uint64
	from, gen uint64 // the generations its records can have (Watermark.Lost)
	nack      bool   // seq could not be stored: basic.nack once the ones before are settled
	nq        uint32 // how many of pendingQs are its queues
}

// handleUnopenedChannel takes a method frame for a channel that is not
// open: only channel.open is welcome.
func (c *Conn) handleUnopenedChannel(f frame.Frame) error {
	id, err := frame.MethodID(f.Payload)
	if err != nil {
		return err
	}
	if id != frame.IDChannelOpen {
		return frame.Errorf(frame.ChannelError, "expected 'channel.open'").WithMethod(id)
	}
	var m frame.ChannelOpen
	if err := m.Decode(f.Payload[4:]); err != nil {
		return err
	}
	if n := len(c.channels.open); c.channelMax != 0 && n >= int(c.channelMax) {
		return frame.Errorf(frame.NotAllowed, "number of channels opened (%d) has reached the negotiated channel_max (%d)", n, c.channelMax)
	}
	if err := c.b.AdmitChannel(c.principal.User); err != nil {
		return err
	}
	ch := &channel{id: f.Channel, c: c, consumers: make(map[string]*consumer), admitted: true}
	c.channels.add(ch)
	ch.register()
	c.sendMethod(f.Channel, &frame.ChannelOpenOk{})
	return nil
}

// channelError closes the channel with a soft exception; the connection
// carries on.
func (ch *channel) channelError(e *frame.Error) {
	if ch.closing {
		return
	}
	ch.c.sendMethod(ch.id, &frame.ChannelClose{ReplyCode: e.Code, ReplyText: truncText(e.Error()), ClassID: e.ClassID, MethodID: e.MethodID})
	ch.teardown()
	ch.closing = true
}

// teardown cancels the channel's consumers and requeues what it had not
// acked. Consumers go first, so nothing new is delivered meanwhile.
func (ch *channel) teardown() {
	ch.unregister()
	ch.dropReplyTo()
	var left []*broker.Queue
	for tag, k := range ch.consumers {
		delete(ch.consumers, tag)
		ch.removeConsumer(k)
		left = append(left, k.bc.Queue)
	}
	ch.mu.Lock()
	runs, _ := ch.unacked.take(0, true, ch.scratch[:0])
	ch.mu.Unlock()
	ch.requeueRuns(runs)
	ch.scratch = clearRuns(runs)
	for _, q := range left {
		q.Dispatch() // a single active consumer's successor takes over
	}
	ch.resetPublish()
	ch.txPubs, ch.txAcks = nil, nil
	ch.pendingSync = nil
}

func (ch *channel) removeConsumer(k *consumer) {
	if k.stream != nil {
		k.stream.close()
	}
	q := k.bc.Queue
	ch.entry.RemoveConsumer(&k.bc)
	if q.RemoveConsumer(&k.bc) {
		ch.c.vhost.DeleteIfAutoDelete(q)
	}
}

func (ch *channel) handleMethod(payload []byte) error {
	id, err := frame.MethodID(payload)
	if err != nil {
		return err
	}
	if ch.closing {
		switch id {
		case frame.IDChannelCloseOk:
			ch.c.channels.remove(ch.id)
		case frame.IDChannelClose:
			ch.c.sendMethod(ch.id, &frame.ChannelCloseOk{})
		}
		return nil
	}
	if ch.pub.state != expectMethod {
		return ch.pub.unexpected()
	}
	if ch.txCommit != nil && id != frame.IDChannelClose {
		return errCommitPending()
	}
	args := payload[4:]
	// The hot methods are decoded without allocating.
	switch id {
	case frame.IDBasicPublish:
		return ch.startPublish(args)
	case frame.IDBasicAck:
		var m frame.BasicAck
		if err := m.Decode(args); err != nil {
			return err
		}
		return onMethod(ch.ack(m.DeliveryTag, m.Multiple), id)
	}
	m, err := frame.DecodeMethod(payload)
	if err != nil {
		return err
	}
	return onMethod(ch.dispatch(m), id)
}

// onMethod names method id in the close err causes, unless err names a
// method already. Decode errors do not pass here: RabbitMQ's close for a
// name that is not UTF-8 names no method.
func onMethod(err error, id uint32) error {
	if err == nil {
		return nil
	}
	e := asAMQP(err, frame.InternalError)
	if e.ClassID == 0 {
		e.WithMethod(id)
	}
	return e
}

func (ch *channel) dispatch(m frame.Method) error {
	switch m := m.(type) {
	case *frame.ChannelClose:
		ch.teardown()
		ch.c.sendMethod(ch.id, &frame.ChannelCloseOk{})
		ch.c.channels.remove(ch.id)
		return nil
	case *frame.ChannelCloseOk:
		return nil
	case *frame.ChannelOpen:
		return frame.Errorf(frame.ChannelError, "second 'channel.open' seen")
	case *frame.ChannelFlow:
		// RabbitMQ refuses client-initiated flow=false, and clients (the Go
		// client's own tests) rely on that answer.
		if !m.Active {
			return frame.Errorf(frame.NotImplemented, "active=false")
		}
		ch.c.sendMethod(ch.id, &frame.ChannelFlowOk{Active: true})
		return nil
	case *frame.ExchangeDeclare:
		return ch.exchangeDeclare(m)
	case *frame.ExchangeDelete:
		cm, err := ch.c.vhost.ExchangeDeleteAsync(ch.c.principal, m.Exchange, broker.ExchangeDeleteOptions{IfUnused: m.IfUnused})
		if err != nil {
			return err
		}
		ch.c.afterCommit(cm, ch.id, m.NoWait, func() { ch.c.sendMethod(ch.id, &frame.ExchangeDeleteOk{}) })
		return nil
	case *frame.ExchangeBind:
		cm, err := ch.c.vhost.ExchangeBindAsync(ch.c.principal, broker.Binding{Source: m.Source, Destination: m.Destination, Key: m.RoutingKey, Args: m.Arguments})
		if err != nil {
			return err
		}
		ch.c.afterCommit(cm, ch.id, m.NoWait, func() { ch.c.sendMethod(ch.id, &frame.ExchangeBindOk{}) })
		return nil
	case *frame.ExchangeUnbind:
		cm, err := ch.c.vhost.ExchangeUnbindAsync(ch.c.principal, broker.Binding{Source: m.Source, Destination: m.Destination, Key: m.RoutingKey, Args: m.Arguments})
		if err != nil {
			return err
		}
		ch.c.afterCommit(cm, ch.id, m.NoWait, func() { ch.c.sendMethod(ch.id, &frame.ExchangeUnbindOk{}) })
		return nil
	case *frame.QueueDeclare:
		return ch.queueDeclare(m)
	case *frame.QueueBind:
		return ch.queueBind(m.Queue, m.Exchange, m.RoutingKey, m.Arguments, m.NoWait, false)
	case *frame.QueueUnbind:
		return ch.queueBind(m.Queue, m.Exchange, m.RoutingKey, m.Arguments, false, true)
	case *frame.QueuePurge:
		q, err := ch.c.vhost.Queue(ch.c.principal, ch.queueName(m.Queue), ch.c.id)
		if err != nil {
			return err
		}
		if q.IsStream() {
			return broker.StreamRefused(q, "queue.purge")
		}
		n := q.Purge()
		ch.reply(m.NoWait, &frame.QueuePurgeOk{MessageCount: uint32(n)})
		return nil
	case *frame.QueueDelete:
		n, cm, err := ch.c.vhost.QueueDeleteAsync(ch.c.principal, ch.queueName(m.Queue), broker.QueueDeleteOptions{IfUnused: m.IfUnused, IfEmpty: m.IfEmpty}, ch.c.id)
		if err != nil {
			return err
		}
		ch.c.afterCommit(cm, ch.id, m.NoWait, func() { ch.c.sendMethod(ch.id, &frame.QueueDeleteOk{MessageCount: uint32(n)}) })
		return nil
	case *frame.BasicQos:
		return ch.qos(m)
	case *frame.BasicConsume:
		return ch.consume(m)
	case *frame.BasicCancel:
		if k, ok := ch.consumers[m.ConsumerTag]; ok {
			delete(ch.consumers, m.ConsumerTag)
			ch.removeConsumer(k)
			k.bc.Queue.Dispatch() // a single active consumer's successor takes over
		} else {
			ch.cancelReplyTo(m.ConsumerTag)
		}
		ch.reply(m.NoWait, &frame.BasicCancelOk{ConsumerTag: m.ConsumerTag})
		return nil
	case *frame.BasicGet:
		return ch.get(m)
	case *frame.BasicNack:
		return ch.nack(m.DeliveryTag, m.Multiple, m.Requeue)
	case *frame.BasicReject:
		return ch.nack(m.DeliveryTag, false, m.Requeue)
	case *frame.BasicRecover:
		return ch.recover(m.Requeue, true)
	case *frame.BasicRecoverAsync:
		return ch.recover(m.Requeue, false)
	case *frame.ConfirmSelect:
		if ch.tx {
			return frame.Errorf(frame.PreconditionFailed, "cannot switch from tx to confirm mode")
		}
		ch.confirm = true
		ch.entry.Confirm.Store(true)
		ch.c.subscribeConfirms()
		ch.reply(m.NoWait, &frame.ConfirmSelectOk{})
		return nil
	case *frame.TxSelect:
		if ch.confirm {
			return frame.Errorf(frame.PreconditionFailed, "cannot switch from confirm to tx mode")
		}
		ch.tx = true
		ch.entry.Transactional.Store(true)
		ch.c.sendMethod(ch.id, &frame.TxSelectOk{})
		return nil
	case *frame.TxCommit:
		return ch.commit()
	case *frame.TxRollback:
		if !ch.tx {
			return frame.Errorf(frame.PreconditionFailed, "channel is not transactional")
		}
		ch.txPubs, ch.txAcks = ch.txPubs[:0], ch.txAcks[:0]
		ch.noteTx()
		ch.c.sendMethod(ch.id, &frame.TxRollbackOk{})
		return nil
	}
	// Methods only a server sends; RabbitMQ's words.
	return frame.Errorf(frame.CommandInvalid, "unimplemented method")
}

func (ch *channel) reply(noWait bool, m frame.Method) {
	if !noWait {
		ch.c.sendMethod(ch.id, m)
	}
}

// queueName resolves "" to the last queue declared on the channel, as the
// spec allows.
func (ch *channel) queueName(name string) string {
	if name == "" {
		return ch.lastQueue
	}
	return name
}

func (ch *channel) exchangeDeclare(m *frame.ExchangeDeclare) error {
	cm, err := ch.c.vhost.ExchangeDeclareAsync(ch.c.principal, broker.ExchangeDeclareOptions{
		Name: m.Exchange, Type: m.Type, Passive: m.Passive, Durable: m.Durable,
		AutoDelete: m.AutoDelete, Internal: m.Internal, Args: m.Arguments,
	})
	if err != nil {
		return err
	}
	ch.c.afterCommit(cm, ch.id, m.NoWait, func() { ch.c.sendMethod(ch.id, &frame.ExchangeDeclareOk{}) })
	return nil
}

func (ch *channel) queueDeclare(m *frame.QueueDeclare) error {
	if isReplyQueueName(m.Queue) {
		return ch.declareReplyTo(m)
	}
	q, cm, err := ch.c.vhost.QueueDeclareAsync(ch.c.principal, broker.QueueDeclareOptions{
		Name: m.Queue, Passive: m.Passive, Durable: m.Durable, Exclusive: m.Exclusive,
		AutoDelete: m.AutoDelete, Args: m.Arguments, Owner: ch.c.id,
	})
	if err != nil {
		return err
	}
	ch.lastQueue = q.Name
	ch.c.afterCommit(cm, ch.id, m.NoWait, func() {
		ch.c.sendMethod(ch.id, &frame.QueueDeclareOk{Queue: q.Name, MessageCount: uint32(q.Ready()), ConsumerCount: uint32(q.ConsumerCount())})
	})
	return nil
}

func (ch *channel) queueBind(queue, exchange, key string, args frame.Table, noWait, unbind bool) error {
	if queue == "" {
		queue = ch.lastQueue
		if key == "" {
			key = queue
		}
	}
	b := broker.Binding{Source: exchange, Destination: queue, Key: key, Args: args}
	if unbind {
		cm, err := ch.c.vhost.QueueUnbindAsync(ch.c.principal, b, ch.c.id)
		if err != nil {
			return err
		}
		ch.c.afterCommit(cm, ch.id, false, func() { ch.c.sendMethod(ch.id, &frame.QueueUnbindOk{}) })
		return nil
	}
	cm, err := ch.c.vhost.QueueBindAsync(ch.c.principal, b, ch.c.id)
	if err != nil {
		return err
	}
	ch.c.afterCommit(cm, ch.id, noWait, func() { ch.c.sendMethod(ch.id, &frame.QueueBindOk{}) })
	return nil
}

func (ch *channel) qos(m *frame.BasicQos) error {
	if m.PrefetchSize != 0 {
		return frame.Errorf(frame.NotImplemented, "prefetch_size!=0 (%d)", m.PrefetchSize)
	}
	if m.Global {
		ch.globalPrefetch.Store(int32(m.PrefetchCount))
		ch.entry.GlobalPrefetchCount.Store(uint32(m.PrefetchCount))
	} else {
		ch.prefetchConsumer = int32(m.PrefetchCount)
		ch.entry.PrefetchCount.Store(uint32(m.PrefetchCount))
	}
	ch.c.sendMethod(ch.id, &frame.BasicQosOk{})
	ch.redispatch()
	return nil
}

func (ch *channel) consume(m *frame.BasicConsume) error {
	if m.Queue == replyToQueue {
		return ch.consumeReplyTo(m)
	}
	q, err := ch.c.vhost.Queue(ch.c.principal, ch.queueName(m.Queue), ch.c.id)
	if err != nil {
		return err
	}
	tag := m.ConsumerTag
	if tag == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		tag = "amq.ctag-" + base64.RawURLEncoding.EncodeToString(b[:])
	} else if _, dup := ch.consumers[tag]; dup || tag == ch.replyTo.tag {
		return frame.Errorf(frame.NotAllowed, "attempt to reuse consumer tag '%s'", tag)
	}
	timeout, err := consumerTimeoutArg(m.Arguments)
	if err != nil {
		return err
	}
	if q.IsStream() {
		return ch.consumeStream(m, q, tag, timeout) // stream_consumer.go
	}
	k := &consumer{ch: ch, prefetch: ch.prefetchConsumer, timeout: timeout}
	k.bc = broker.Consumer{Tag: tag, NoAck: m.NoAck, Exclusive: m.Exclusive, Args: m.Arguments, D: k}
	err = q.AddConsumer(&k.bc, func() {
		// Under the queue lock, so consume-ok precedes any delivery a
		// publisher on another loop makes to this consumer.
		if !m.NoWait {
			b := ch.c.lockOut()
			ch.c.unlockOut(frame.AppendMethodFrame(b, ch.id, &frame.BasicConsumeOk{ConsumerTag: tag}))
		}
	})
	if err != nil {
		return err
	}
	ch.consumers[tag] = k
	ch.entry.AddConsumer(&k.bc)
	// The backlog goes out after consume-ok has been flushed.
	ch.c.afterFlush = append(ch.c.afterFlush, q)
	return nil
}

func (ch *channel) get(m *frame.BasicGet) error {
	q, err := ch.c.vhost.Queue(ch.c.principal, ch.queueName(m.Queue), ch.c.id)
	if err != nil {
		return err
	}
	if q.IsStream() {
		return broker.StreamRefused(q, "basic.get")
	}
	c := ch.c
	ok, err := q.GetErr(m.NoAck, func(t broker.Ticket, d broker.Delivery, remaining int) {
		ch.mu.Lock()
		ch.deliveryTag++
		tag := ch.deliveryTag
		ch.entry.CountGet(m.NoAck, d.Redelivered)
		if !m.NoAck && ch.unacked.push(tag, q, nil, t) {
			c.noteUnacked()
		}
		b := c.lockOut()
		b = frame.AppendBasicGetOk(b, ch.id, tag, d.Redelivered, d.Exchange, d.RoutingKey, uint32(remaining))
		b = frame.AppendContentHeader(b, ch.id, 60, uint64(len(d.Body)), d.Props)
		b = frame.AppendBody(b, ch.id, d.Body, c.frameMax)
		c.unlockOut(b)
		ch.mu.Unlock()
	})
	if err != nil {
		return err
	}
	if !ok {
		ch.entry.GetEmpty.Add(1)
		c.sendMethod(ch.id, &frame.BasicGetEmpty{})
	}
	return nil
}

// redispatch asks every queue this channel consumes from to deliver again,
// after credit came back.
func (ch *channel) redispatch() {
	for _, k := range ch.consumers {
		if k.stream != nil {
			k.stream.wake()
			continue
		}
		k.bc.Queue.Dispatch()
	}
}

func (c *Conn) redispatch() {
	for _, ch := range c.channels.open {
		ch.redispatch()
	}
}
