package netio

import (
	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

type publishStage uint8

const (
	expectMethod publishStage = iota
	expectHeader
	expectBody
)

// publishState assembles basic.publish + header + body frames. Its buffers
// are reused from one message to the next.
type publishState struct {
	state      publishStage
	exchange   []byte
	routingKey []byte
	mandatory  bool
	props      []byte
	body       []byte
	bodySize   uint64
}

func (p *publishState) reset() {
	p.state = expectMethod
	p.body = p.body[:0]
}

func (ch *channel) startPublish(args []byte) error {
	ex, rk, mandatory, immediate, err := frame.DecodePublishView(args)
	if err != nil {
		return err
	}
	if immediate {
		// As RabbitMQ 3.x: immediate was removed from the protocol it speaks.
		return &frame.Error{Code: frame.NotImplemented, Text: "immediate=true", ClassID: 60, MethodID: 40}
	}
	p := &ch.pub
	p.exchange = append(p.exchange[:0], ex...)
	p.routingKey = append(p.routingKey[:0], rk...)
	p.mandatory = mandatory
	p.state = expectHeader
	return nil
}

func (ch *channel) handleHeader(payload []byte) error {
	if ch.closing {
		return nil
	}
	p := &ch.pub
	if p.state != expectHeader {
		return frame.Errorf(frame.UnexpectedFrame, "expected method frame, got non method frame instead")
	}
	classID, size, props, err := frame.ParseContentHeader(payload)
	if err != nil {
		return err
	}
	if classID != 60 {
		return frame.Errorf(frame.UnexpectedFrame, "content header for class %d, expected 60", classID)
	}
	if err := frame.ValidateProperties(props); err != nil {
		return err
	}
	if uid, ok := frame.PropsShortstr(props, frame.PropUserID); ok && string(uid) != ch.c.principal.User {
		p.reset()
		return &frame.Error{Code: frame.PreconditionFailed, ClassID: 60, MethodID: 40,
			Text: "user_id property set to '" + string(uid) + "' but authenticated user was '" + ch.c.principal.User + "'"}
	}
	if max := ch.c.b.Config().MaxMessageSize; int64(size) > max {
		p.reset()
		return &frame.Error{Code: frame.PreconditionFailed, ClassID: 60, MethodID: 40,
			Text: "message size " + itoa(size) + " is larger than configured max size " + itoa(uint64(max))}
	}
	p.props = append(p.props[:0], props...)
	p.bodySize = size
	p.body = p.body[:0]
	if size == 0 {
		return ch.completePublish(nil)
	}
	p.state = expectBody
	return nil
}

func (ch *channel) handleBody(payload []byte) error {
	if ch.closing {
		return nil
	}
	p := &ch.pub
	if p.state != expectBody {
		return frame.Errorf(frame.UnexpectedFrame, "unexpected content body frame")
	}
	if uint64(len(p.body)+len(payload)) > p.bodySize {
		return frame.Errorf(frame.FrameError, "content body exceeds the size in its header (%d)", p.bodySize)
	}
	// A body in one frame is published straight from the read buffer.
	if len(p.body) == 0 && uint64(len(payload)) == p.bodySize {
		return ch.completePublish(payload)
	}
	p.body = append(p.body, payload...)
	if uint64(len(p.body)) < p.bodySize {
		return nil
	}
	return ch.completePublish(p.body)
}

func (ch *channel) completePublish(body []byte) error {
	p := &ch.pub
	p.state = expectMethod
	m := broker.Message{
		Exchange:   p.exchange,
		RoutingKey: p.routingKey,
		Props:      p.props,
		Body:       body,
		Persistent: frame.PropsDeliveryMode(p.props) == 2,
		Timestamp:  ch.c.nowMilli,
		Origin:     ch.c,
	}
	if ch.tx {
		ch.txPubs = append(ch.txPubs, copyPublish(&m, p.mandatory))
		return nil
	}
	return ch.publish(&m, p.mandatory)
}

func (ch *channel) publish(m *broker.Message, mandatory bool) error {
	c := ch.c
	res, qs, err := c.vhost.Publish(c.principal, m, &ch.pubCache, c.scratchQueues)
	c.scratchQueues = qs
	ch.entry.Published.Add(1)
	if err != nil {
		e := asAMQP(err, frame.InternalError)
		e.ClassID, e.MethodID = 60, 40
		return e
	}
	if res.Routed == 0 && mandatory {
		c.appendLoop(func(b []byte) []byte {
			b = frame.AppendBasicReturn(b, ch.id, frame.NoRoute, "NO_ROUTE", m.Exchange, m.RoutingKey)
			b = frame.AppendContentHeader(b, ch.id, 60, uint64(len(m.Body)), m.Props)
			return frame.AppendBody(b, ch.id, m.Body, c.frameMax)
		})
	}
	if ch.confirm {
		ch.pubSeq++
		if res.CommitGen > 0 && res.CommitGen > c.b.Watermark().Committed() {
			ch.pendingSync = append(ch.pendingSync, syncWait{seq: ch.pubSeq, gen: res.CommitGen})
		} else if len(ch.pendingSync) == 0 {
			ch.confirmedUpTo = ch.pubSeq
		}
	}
	return nil
}

func itoa(n uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
