package netio

import (
	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// txPublish is a publish held until tx.commit; it owns copies of its bytes
// because the read buffer is gone by then.
type txPublish struct {
	m         broker.Message
	mandatory bool
}

type txAck struct {
	tag      uint64
	multiple bool
	nack     bool
	requeue  bool
}

func copyPublish(m *broker.Message, mandatory bool) txPublish {
	buf := make([]byte, 0, len(m.Exchange)+len(m.RoutingKey)+len(m.Props)+len(m.Body))
	cp := *m
	buf = append(buf, m.Exchange...)
	cp.Exchange = buf[:len(m.Exchange):len(m.Exchange)]
	buf = append(buf, m.RoutingKey...)
	cp.RoutingKey = buf[len(cp.Exchange):len(buf):len(buf)]
	start := len(buf)
	buf = append(buf, m.Props...)
	cp.Props = buf[start:len(buf):len(buf)]
	start = len(buf)
	buf = append(buf, m.Body...)
	cp.Body = buf[start:]
	return txPublish{m: cp, mandatory: mandatory}
}

// txAck records an ack inside a transaction; the tag must be outstanding now.
func (ch *channel) txAck(a txAck) error {
	ch.mu.Lock()
	ok := ch.unacked.has(a.tag, a.multiple)
	ch.mu.Unlock()
	if !ok {
		return unknownTag(a.tag)
	}
	ch.txAcks = append(ch.txAcks, a)
	return nil
}

func (ch *channel) commit() error {
	if !ch.tx {
		return frame.Errorf(frame.PreconditionFailed, "channel is not transactional")
	}
	pubs, acks := ch.txPubs, ch.txAcks
	ch.txPubs, ch.txAcks = nil, nil
	ch.tx = false // apply for real below
	defer func() { ch.tx = true }()
	for i := range pubs {
		if err := ch.publish(&pubs[i].m, pubs[i].mandatory); err != nil {
			return err
		}
	}
	for _, a := range acks {
		var err error
		if a.nack {
			err = ch.nack(a.tag, a.multiple, a.requeue)
		} else {
			err = ch.ack(a.tag, a.multiple)
		}
		if err != nil {
			return err
		}
	}
	ch.c.sendMethod(ch.id, &frame.TxCommitOk{})
	return nil
}
