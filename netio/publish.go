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
// are reused from one message to the next, the body's only up to
// assemblyKeep.
type publishState struct {
	state      publishStage
	exchange   []byte
	routingKey []byte
	mandatory  bool
	props      []byte
	body       []byte
	bodySize   uint64
	reserved   int64 // bytes booked against the assembly budgets
}

func (ch *channel) resetPublish() {
	ch.releaseAssembly()
	ch.pub.state = expectMethod
	ch.pub.body = ch.pub.body[:0]
}

// unexpected is RabbitMQ's error (rabbit_command_assembler's texts) for a
// frame that does not fit the publish in progress. Once basic.publish came
// the close names it, as RabbitMQ's does.
func (p *publishState) unexpected() error {
	switch p.state {
	case expectHeader:
		return frame.Errorf(frame.UnexpectedFrame, "expected content header for class 60, got non content header frame instead").WithMethod(frame.IDBasicPublish)
	case expectBody:
		return frame.Errorf(frame.UnexpectedFrame, "expected content body, got non content body frame instead").WithMethod(frame.IDBasicPublish)
	}
	return frame.Errorf(frame.UnexpectedFrame, "expected method frame, got non method frame instead")
}

func (ch *channel) startPublish(args []byte) error {
	ex, rk, mandatory, immediate, err := frame.DecodePublishView(args)
	if err != nil {
		return err
	}
	if immediate {
		// As RabbitMQ 3.x: immediate was removed from the protocol it speaks.
		return frame.Errorf(frame.NotImplemented, "immediate=true").WithMethod(frame.IDBasicPublish)
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
		return p.unexpected()
	}
	classID, size, props, err := frame.ParseContentHeader(payload)
	if err != nil {
		return err
	}
	if classID != frame.ClassBasic {
		return frame.Errorf(frame.UnexpectedFrame, "expected content header for class 60, got one for class %d instead", classID).WithMethod(frame.IDBasicPublish)
	}
	if err := frame.ValidateProperties(props); err != nil {
		return err
	}
	if uid, ok := frame.PropsShortstr(props, frame.PropUserID); ok && string(uid) != ch.c.principal.User && !ch.c.principal.HasTag(broker.TagImpersonator) {
		ch.resetPublish()
		return frame.Errorf(frame.PreconditionFailed, "user_id property set to '%s' but authenticated user was '%s'",
			uid, ch.c.principal.User).WithMethod(frame.IDBasicPublish)
	}
	if max := ch.c.b.Config().MaxMessageSize; int64(size) > max {
		ch.resetPublish()
		return frame.Errorf(frame.PreconditionFailed, "message size %d is larger than configured max size %d",
			size, max).WithMethod(frame.IDBasicPublish)
	}
	p.props = append(p.props[:0], props...)
	p.bodySize = size
	p.body = p.body[:0]
	if size == 0 {
		return ch.completePublish(nil)
	}
	if size > assemblyKeep {
		if err := ch.reserveAssembly(size); err != nil {
			return err
		}
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
		return p.unexpected()
	}
	if uint64(len(p.body)+len(payload)) > p.bodySize {
		return frame.Errorf(frame.FrameError, "content body exceeds the size in its header (%d)", p.bodySize)
	}
	// A body in one frame is published straight from the read buffer.
	if len(p.body) == 0 && uint64(len(payload)) == p.bodySize {
		return ch.completePublish(payload)
	}
	if len(p.body) == 0 && uint64(cap(p.body)) < p.bodySize {
		// Sized once: growing by append would leave copies of a large body
		// behind for the GC, several times its size in all.
		p.body = make([]byte, 0, p.bodySize)
	}
	p.body = append(p.body, payload...)
	if uint64(len(p.body)) < p.bodySize {
		return nil
	}
	return ch.completePublish(p.body)
}

func (ch *channel) completePublish(body []byte) error {
	p := &ch.pub
	if on := ch.c.b.Alarms().Active(); on != 0 {
		// Read no further than this message (blocked.go).
		ch.c.publishedUnderAlarm(on)
	}
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
	// The message is stored (or copied for the transaction) by the time
	// these return, so the body buffer is free to go.
	defer ch.releaseAssembly()
	if err := ch.rewriteReplyTo(&m); err != nil {
		return err
	}
	if ch.tx {
		if isReply(&m) && ch.txReply(&m, p.mandatory) {
			return nil
		}
		ch.txPubs = append(ch.txPubs, copyPublish(&m, p.mandatory))
		ch.noteTx()
		return nil
	}
	return ch.publish(&m, p.mandatory)
}

func (ch *channel) publish(m *broker.Message, mandatory bool) error {
	c := ch.c
	var from uint64 // the first generation this publish's records can get
	if ch.confirm {
		from = c.b.Watermark().Committed() + 1
	}
	var res broker.PublishResult
	var qs []*broker.Queue // the queues that stored it
	var err error
	if isReply(m) {
		if c.deliverReply(m) {
			res.Routed = 1
		}
	} else {
		res, qs, err = c.vhost.Publish(c.principal, m, &ch.pubCache, c.scratchQueues)
		c.scratchQueues = qs
	}
	if err != nil {
		ch.entry.Published.Add(1)
		return asAMQP(err, frame.InternalError).WithMethod(frame.IDBasicPublish)
	}
	ch.entry.CountPublish(ch.confirm, mandatory, res.Routed > 0 || res.Unstored > 0)
	if ch.txCommit != nil {
		ch.txCommit.note(res, qs)
	}
	if res.Routed == 0 && res.Unstored == 0 && mandatory {
		c.appendLoop(func(b []byte) []byte {
			b = frame.AppendBasicReturn(b, ch.id, frame.NoRoute, "NO_ROUTE", m.Exchange, m.RoutingKey)
			b = frame.AppendContentHeader(b, ch.id, 60, uint64(len(m.Body)), m.Props)
			return frame.AppendBody(b, ch.id, m.Body, c.frameMax)
		})
	}
	if ch.confirm {
		ch.pubSeq++
		wm := c.b.Watermark()
		switch {
		case res.Unstored > 0:
			// Not written (a full disk): the publisher must know. Without
			// confirms it is lost, as in RabbitMQ; the channel stays.
			ch.nackPublish(ch.pubSeq)
		case res.CommitGen == 0: // nothing to wait for
			if len(ch.pendingSync) == 0 {
				ch.confirmedUpTo = ch.pubSeq
			}
		case res.CommitGen > wm.Committed() || len(ch.pendingSync) > 0:
			ch.waitSync(ch.pubSeq, from, res.CommitGen, qs)
		case lostIn(wm, qs, from, res.CommitGen):
			ch.nackPublish(ch.pubSeq)
		default:
			ch.confirmedUpTo = ch.pubSeq
		}
	}
	return nil
}
