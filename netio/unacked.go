package netio

import (
	"sort"

	"github.com/warrenmq/warren/broker"
)

// unackedEntry is one delivery awaiting ack: where the message lives, not
// the message.
type unackedEntry struct {
	tag  uint64
	q    *broker.Queue
	t    broker.Ticket
	k    *consumer // nil for basic.get
	done bool      // acked out of order; dropped when it reaches the front
}

// unackedList holds a channel's deliveries in tag order. Acks mostly come in
// order, so removal is from the front; out-of-order acks mark entries done.
type unackedList struct {
	e    []unackedEntry
	head int
	live int
}

func (l *unackedList) push(e unackedEntry) {
	if l.head > 0 && l.head == len(l.e) {
		l.e, l.head = l.e[:0], 0
	}
	l.e = append(l.e, e)
	l.live++
}

func (l *unackedList) trimFront() {
	for l.head < len(l.e) && l.e[l.head].done {
		l.e[l.head] = unackedEntry{}
		l.head++
	}
	if l.head == len(l.e) {
		l.e, l.head = l.e[:0], 0
	} else if l.head > 1024 && l.head > len(l.e)/2 {
		n := copy(l.e, l.e[l.head:])
		clear(l.e[n:])
		l.e, l.head = l.e[:n], 0
	}
}

func (l *unackedList) find(tag uint64) int {
	s := l.e[l.head:]
	i := sort.Search(len(s), func(i int) bool { return s[i].tag >= tag })
	if i < len(s) && s[i].tag == tag && !s[i].done {
		return l.head + i
	}
	return -1
}

// take removes the entries an ack names and appends them to out. With
// multiple, every outstanding tag up to tag goes (tag 0: all of them); the
// named tag itself must be outstanding unless it is 0, as in RabbitMQ.
func (l *unackedList) take(tag uint64, multiple bool, out []unackedEntry) ([]unackedEntry, bool) {
	if multiple && tag == 0 {
		for i := l.head; i < len(l.e); i++ {
			if !l.e[i].done {
				out = append(out, l.e[i])
			}
		}
		clear(l.e)
		l.e, l.head, l.live = l.e[:0], 0, 0
		return out, true
	}
	i := l.find(tag)
	if i < 0 {
		return out, false
	}
	from := i
	if multiple {
		from = l.head
	}
	for j := from; j <= i; j++ {
		if !l.e[j].done {
			out = append(out, l.e[j])
			l.e[j].done = true
			l.live--
		}
	}
	l.trimFront()
	return out, true
}

// has reports whether an ack of tag would find something (tx validation).
func (l *unackedList) has(tag uint64, multiple bool) bool {
	if multiple && tag == 0 {
		return true
	}
	return l.find(tag) >= 0
}
