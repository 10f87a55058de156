package netio

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"sync"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// Direct reply-to (RabbitMQ's amq.rabbitmq.reply-to pseudo-queue): an RPC
// client consumes from the pseudo-queue with no-ack and publishes requests
// with reply_to=amq.rabbitmq.reply-to; the broker rewrites that to
// amq.rabbitmq.reply-to.<token>, and a reply published to the default
// exchange with that routing key goes straight to the client's channel,
// never into a queue. The token is 144 random bits naming one channel's
// reply consumer, so it is as hard to guess as RabbitMQ's, and it dies
// with the channel: a late reply is dropped, or returned if mandatory.

const (
	replyToQueue  = "amq.rabbitmq.reply-to"
	replyToPrefix = replyToQueue + "."
)

// replyRegistry maps reply routing keys to the channels consuming them.
type replyRegistry struct {
	mu sync.RWMutex
	m  map[string]*channel
}

func (r *replyRegistry) add(key string, ch *channel) {
	r.mu.Lock()
	if r.m == nil {
		r.m = make(map[string]*channel)
	}
	r.m[key] = ch
	r.mu.Unlock()
}

func (r *replyRegistry) remove(key string) {
	r.mu.Lock()
	delete(r.m, key)
	r.mu.Unlock()
}

func (r *replyRegistry) lookup(key []byte) *channel {
	r.mu.RLock()
	ch := r.m[string(key)]
	r.mu.RUnlock()
	return ch
}

// replyState is a channel's reply consumer. Only the channel's loop
// writes it, under channel.mu; publishers on other connections read it
// under channel.mu, the loop itself without.
type replyState struct {
	tag string // consumer tag; "" when the channel has no reply consumer
	key string // amq.rabbitmq.reply-to.<token>
}

func newReplyKey() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return replyToPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// consumeReplyTo is basic.consume on the pseudo-queue.
func (ch *channel) consumeReplyTo(m *frame.BasicConsume) error {
	if !m.NoAck {
		return frame.Errorf(frame.PreconditionFailed, "reply consumer cannot acknowledge")
	}
	ch.mu.Lock()
	set := ch.replyTo.tag != ""
	ch.mu.Unlock()
	if set {
		return frame.Errorf(frame.PreconditionFailed, "reply consumer already set")
	}
	tag := m.ConsumerTag
	if tag == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		tag = "amq.ctag-" + base64.RawURLEncoding.EncodeToString(b[:])
	} else if _, dup := ch.consumers[tag]; dup {
		return frame.Errorf(frame.NotAllowed, "attempt to reuse consumer tag '%s'", tag)
	}
	key := newReplyKey()
	// consume-ok goes out before a reply can be delivered: both are
	// appended under channel.mu, and the registry knows the key only after.
	ch.mu.Lock()
	ch.replyTo = replyState{tag: tag, key: key}
	if !m.NoWait {
		b := ch.c.lockOut()
		ch.c.unlockOut(frame.AppendMethodFrame(b, ch.id, &frame.BasicConsumeOk{ConsumerTag: tag}))
	}
	ch.mu.Unlock()
	ch.c.srv.replies.add(key, ch)
	return nil
}

// cancelReplyTo ends the reply consumer if tag names it.
func (ch *channel) cancelReplyTo(tag string) bool {
	ch.mu.Lock()
	r := ch.replyTo
	if r.tag == "" || r.tag != tag {
		ch.mu.Unlock()
		return false
	}
	ch.replyTo = replyState{}
	ch.mu.Unlock()
	ch.c.srv.replies.remove(r.key)
	return true
}

// dropReplyTo ends the reply consumer, if any, as the channel goes.
func (ch *channel) dropReplyTo() {
	ch.mu.Lock()
	r := ch.replyTo
	ch.replyTo = replyState{}
	ch.mu.Unlock()
	if r.tag != "" {
		ch.c.srv.replies.remove(r.key)
	}
}

// rewriteReplyTo names this channel's reply consumer in a request's
// reply_to. Only messages with a reply_to pay more than a flag test.
func (ch *channel) rewriteReplyTo(m *broker.Message) error {
	rt, ok := frame.PropsShortstr(m.Props, frame.PropReplyTo)
	if !ok || string(rt) != replyToQueue {
		return nil
	}
	ch.mu.Lock()
	key := ch.replyTo.key
	ch.mu.Unlock()
	if key == "" {
		return frame.Errorf(frame.PreconditionFailed, "fast reply consumer does not exist").WithMethod(frame.IDBasicPublish)
	}
	m.Props = frame.PropsWithShortstr(m.Props, frame.PropReplyTo, key)
	return nil
}

// isReply reports whether m is a reply for a reply consumer.
func isReply(m *broker.Message) bool {
	return len(m.Exchange) == 0 && len(m.RoutingKey) > len(replyToPrefix) && bytes.HasPrefix(m.RoutingKey, []byte(replyToPrefix))
}

// deliverReply hands a reply to the channel its key names, and reports
// whether one took it.
func (c *Conn) deliverReply(m *broker.Message) bool {
	to := c.srv.replies.lookup(m.RoutingKey)
	if to == nil {
		return false
	}
	tc := to.c
	to.mu.Lock()
	defer to.mu.Unlock()
	if to.replyTo.key != string(m.RoutingKey) {
		return false // cancelled meanwhile
	}
	to.deliveryTag++
	to.entry.CountDeliver(true, false) // direct reply-to is no-ack
	b := tc.lockOut()
	b = frame.AppendBasicDeliver(b, to.id, to.replyTo.tag, to.deliveryTag, false, m.Exchange, m.RoutingKey)
	b = frame.AppendContentHeader(b, to.id, 60, uint64(len(m.Body)), m.Props)
	b = frame.AppendBody(b, to.id, m.Body, tc.frameMax)
	tc.unlockOutFrom(b, m.Origin)
	return true
}

// declareReplyTo answers queue.declare of the pseudo-queue, which always
// exists, and of a reply key, which exists while its consumer does; the
// counts are RabbitMQ's (no messages, one consumer).
func (ch *channel) declareReplyTo(m *frame.QueueDeclare) error {
	if m.Queue != replyToQueue && ch.c.srv.replies.lookup([]byte(m.Queue)) == nil {
		return frame.Errorf(frame.NotFound, "no queue '%s' in vhost '%s'", m.Queue, ch.c.vhost.Name)
	}
	ch.reply(m.NoWait, &frame.QueueDeclareOk{Queue: m.Queue, MessageCount: 0, ConsumerCount: 1})
	return nil
}

func isReplyQueueName(name string) bool {
	return name == replyToQueue || strings.HasPrefix(name, replyToPrefix)
}

// txReply is a reply published on a transactional channel. RabbitMQ 3.10
// hands a reply to its consumer as it routes it, which for a transaction
// is at basic.publish, not at tx.commit, and a rollback does not take it
// back; only the basic.return of a mandatory reply nobody took waits for
// the commit (and a rollback drops it). It reports whether the reply is
// done with; when not, the caller keeps it for the commit, which returns
// it.
func (ch *channel) txReply(m *broker.Message, mandatory bool) bool {
	if ch.c.deliverReply(m) {
		ch.entry.CountPublish(false, mandatory, true)
		return true
	}
	if !mandatory {
		ch.entry.CountPublish(false, false, false)
		return true
	}
	return false
}
