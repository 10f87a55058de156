package netio

import "math/bits"

// What management shows of a channel beyond its counters: the transport's
// side of broker.ChannelState.

// noteTx publishes the open transaction's sizes (RabbitMQ's
// messages_uncommitted and acks_uncommitted, the latter in deliveries, not
// ack frames); called where they change, on the connection's loop.
func (ch *channel) noteTx() {
	if len(ch.txAcks) == 0 {
		ch.txTally = txTally{singles: ch.txTally.singles[:0]}
	}
	ch.entry.UncommittedMessages.Store(uint32(len(ch.txPubs)))
	ch.entry.UncommittedAcks.Store(uint32(ch.txTally.n))
}

// txTally counts the outstanding deliveries a transaction's acks and
// nacks cover, kept as they arrive so that a transaction of many acks
// does not recount them all each time: a multiple ack covers every tag up
// to upTo, single acks above it are listed.
type txTally struct {
	all     bool     // a multiple ack of tag 0: everything outstanding
	upTo    uint64   // the highest multiple ack's tag
	singles []uint64 // single acks' tags above upTo
	n       int
}

func (ch *channel) tallyTxAck(a txAck) {
	t := &ch.txTally
	switch {
	case t.all || (a.tag <= t.upTo && a.tag != 0):
		// covered already
	case !a.multiple:
		t.singles = append(t.singles, a.tag)
		t.n++
	default:
		t.all = a.tag == 0
		t.upTo = a.tag
		kept := t.singles[:0]
		for _, s := range t.singles {
			if !t.all && s > a.tag {
				kept = append(kept, s)
			}
		}
		t.singles = kept
		ch.mu.Lock()
		if t.all {
			t.n = ch.unacked.count()
		} else {
			t.n = ch.unacked.countUpTo(a.tag)
		}
		ch.mu.Unlock()
		t.n += len(kept)
	}
}

// unackedCount is the deliveries awaiting ack (messages_unacknowledged),
// consumers' and basic.get's alike, less those an open transaction has
// acked (RabbitMQ takes them off at the ack, not the commit). It walks the
// runs under ch.mu rather than keeping a counter, so the delivery path
// pays nothing for it: a run covers a consumer's in-order deliveries, so
// the walk is short.
func (ch *channel) unackedCount() int {
	ch.mu.Lock()
	n := ch.unacked.count()
	ch.mu.Unlock()
	return max(0, n-int(ch.entry.UncommittedAcks.Load()))
}

func (l *unackedList) count() int {
	n := 0
	for i := l.head; i < len(l.r); i++ {
		n += l.r[i].unsettled(l.r[i].n())
	}
	return n
}

// countUpTo is how many outstanding deliveries have tags up to tag.
func (l *unackedList) countUpTo(tag uint64) int {
	n := 0
	for i := l.head; i < len(l.r) && l.r[i].tag <= tag; i++ {
		r := &l.r[i]
		n += r.unsettled(uint32(min(uint64(r.n()), tag-r.tag+1)))
	}
	return n
}

// unsettled is how many of the run's first end deliveries are not
// settled: those past lo less the ones marked in gone.
func (r *unackedRun) unsettled(end uint32) int {
	if r.lo >= end {
		return 0
	}
	n := int(end - r.lo)
	if r.gone == nil {
		return n
	}
	for w, word := range *r.gone {
		first := uint32(w) * 64
		if first+64 <= r.lo || first >= end {
			continue
		}
		if r.lo > first {
			word &^= (1 << (r.lo - first)) - 1 // bits below lo are counted as settled already
		}
		if end < first+64 {
			word &= (1 << (end - first)) - 1
		}
		n -= bits.OnesCount64(word)
	}
	return n
}
