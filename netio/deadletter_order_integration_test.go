package netio_test

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// orderedField is a field of a headers table as it came on the wire, in
// order (amqp091-go decodes tables into maps, which lose it).
type orderedField struct {
	name  string
	tag   byte
	value []byte // after the tag
}

func orderedTable(t *testing.T, b []byte) []orderedField {
	t.Helper()
	var out []orderedField
	for len(b) > 0 {
		n := int(b[0])
		name, tag := string(b[1:1+n]), b[1+n]
		b = b[2+n:]
		vl := orderedValueLen(t, tag, b)
		out = append(out, orderedField{name, tag, b[:vl]})
		b = b[vl:]
	}
	return out
}

func orderedValueLen(t *testing.T, tag byte, b []byte) int {
	t.Helper()
	switch tag {
	case 't', 'b', 'B':
		return 1
	case 's', 'u':
		return 2
	case 'I', 'i', 'f':
		return 4
	case 'D':
		return 5
	case 'l', 'd', 'T':
		return 8
	case 'V':
		return 0
	case 'S', 'x', 'A', 'F':
		return 4 + int(binary.BigEndian.Uint32(b))
	}
	t.Fatalf("field tag %q", tag)
	return 0
}

func orderedNames(fs []orderedField) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.name
	}
	return strings.Join(names, ",")
}

// The headers of a message dead lettered three times, in field order, as
// RabbitMQ 3.10 writes them: the top level sorted, the first x-death entry
// in make_msg's order (count, reason, queue, time, exchange, routing-keys,
// original-expiration) for good, later entries sorted, the others
// regrouped (reversed) once there are two, and a client's nested table
// untouched.
func TestDeadLetterHeaderFieldOrder(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	hops := make([]string, 4)
	for i := range hops {
		hops[i] = name(t, fmt.Sprintf("hop%d", i))
	}
	for i := 3; i >= 0; i-- {
		var args amqp.Table
		if i < 3 {
			args = amqp.Table{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": hops[i+1]}
		}
		if _, err := ch.QueueDeclare(hops[i], false, false, false, false, args); err != nil {
			t.Fatal(err)
		}
		cleanupQueue(t, hops[i])
	}

	r := dialRaw(t)
	r.handshake(handshakeOpts{})
	r.openChannel(1)
	headers := table("zz", []byte{'I', 0, 0, 0, 1},
		"nested", fieldTable(table("b", stringField("1"), "a", stringField("2"))),
		"aa", stringField("s"))
	props := binary.BigEndian.AppendUint16(nil, 0x2000|0x0100) // headers, expiration
	props = append(props, headers...)
	props = append(props, shortstr("60000")...)
	hdr := binary.BigEndian.AppendUint16(nil, 60)
	hdr = binary.BigEndian.AppendUint16(hdr, 0)
	hdr = binary.BigEndian.AppendUint64(hdr, 1)
	hdr = append(hdr, props...)
	r.sendMethod(1, 60, 40, u16(0), shortstr(""), shortstr(hops[0]), bits(false, false))
	r.send(2, 1, hdr)
	r.send(3, 1, []byte("x"))

	c := dial(t)
	for i := 0; i < 3; i++ {
		waitMessages(t, c, hops[i], 1)
		d := mustGet(t, ch, hops[i], false, "x")
		if err := d.Reject(false); err != nil {
			t.Fatal(err)
		}
	}
	waitMessages(t, c, hops[3], 1)

	r.sendMethod(1, 60, 70, u16(0), shortstr(hops[3]), bits(true)) // basic.get, no-ack
	r.expect(1, 60, 71)
	f := r.next()
	if f.typ != 2 {
		t.Fatalf("after get-ok: %s", f)
	}
	p := f.payload[12:]
	if flags := binary.BigEndian.Uint16(p); flags != 0x2000 {
		t.Fatalf("property flags 0x%04x, want headers only (expiration removed)", flags)
	}
	size := binary.BigEndian.Uint32(p[2:])
	top := orderedTable(t, p[6:6+size])
	if got, want := orderedNames(top), "aa,nested,x-death,x-first-death-exchange,x-first-death-queue,x-first-death-reason,zz"; got != want {
		t.Errorf("headers in order %s, want %s", got, want)
	}
	for _, h := range top {
		switch h.name {
		case "nested":
			if got := orderedNames(orderedTable(t, h.value[4:])); got != "b,a" {
				t.Errorf("client's nested table reordered: %s", got)
			}
		case "x-death":
			var queues, orders []string
			a := h.value[4:]
			for len(a) > 0 {
				if a[0] != 'F' {
					t.Fatalf("x-death element tag %q", a[0])
				}
				n := orderedValueLen(t, 'F', a[1:])
				e := orderedTable(t, a[5:1+n])
				a = a[1+n:]
				for _, ef := range e {
					if ef.name == "queue" {
						queues = append(queues, string(ef.value[4:]))
					}
				}
				orders = append(orders, orderedNames(e))
			}
			wantQ := []string{hops[2], hops[0], hops[1]}
			if !slices.Equal(queues, wantQ) {
				t.Errorf("x-death queues %v, want %v (RabbitMQ 3.10's regrouping)", queues, wantQ)
			}
			sorted := "count,exchange,queue,reason,routing-keys,time"
			wantO := []string{sorted, "count,reason,queue,time,exchange,routing-keys,original-expiration", sorted}
			if !slices.Equal(orders, wantO) {
				t.Errorf("x-death entry field orders\n%s\nwant\n%s", strings.Join(orders, "\n"), strings.Join(wantO, "\n"))
			}
		}
	}
}
