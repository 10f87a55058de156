package frame

import "encoding/binary"

// The per-message methods, encoded and decoded without the Method
// interface: no allocation, no copying of names the caller already holds
// as views (exchange and routing key from the segment record). Each writes
// a whole method frame. Strings longer than 255 bytes are truncated, as in
// AppendArgs; these names came from a decoded shortstr, so they never are.

// DecodePublishView decodes basic.publish arguments (the method payload
// after its 4 id bytes). exchange and routingKey are views into args, valid
// only while args is; their capacity is capped so appending to them cannot
// write into args. Errors are *Error 501 as for BasicPublish.Decode. The
// names are not checked for UTF-8: RabbitMQ 3.x does not check them in
// basic.publish either (it routes "rk\xff" and answers an unknown exchange
// "x\xff" with 404), and they are never stored as names.
func DecodePublishView(args []byte) (exchange, routingKey []byte, mandatory, immediate bool, err error) {
	r := reader{b: args}
	r.short() // reserved-1, the old access ticket
	exchange = r.shortstrView()
	routingKey = r.shortstrView()
	bits := r.octet()
	if r.off != len(args) {
		return nil, nil, false, false, r.end(IDBasicPublish)
	}
	return exchange, routingKey, bits&1 != 0, bits&2 != 0, nil
}

// beginMethod starts a method frame; finish it with endFrame(dst, start).
func beginMethod(dst []byte, ch uint16, id uint32) []byte {
	dst = beginFrame(dst, FrameMethod, ch)
	return binary.BigEndian.AppendUint32(dst, id)
}

// AppendBasicDeliver appends a basic.deliver method frame.
func AppendBasicDeliver(dst []byte, ch uint16, consumerTag string, deliveryTag uint64, redelivered bool, exchange, routingKey []byte) []byte {
	start := len(dst)
	dst = beginMethod(dst, ch, IDBasicDeliver)
	dst = appendShortstr(dst, consumerTag)
	dst = appendLonglong(dst, deliveryTag)
	dst = append(dst, bit(redelivered, 0))
	dst = appendShortbytes(dst, exchange)
	dst = appendShortbytes(dst, routingKey)
	return endFrame(dst, start)
}

// AppendBasicGetOk appends a basic.get-ok method frame.
func AppendBasicGetOk(dst []byte, ch uint16, deliveryTag uint64, redelivered bool, exchange, routingKey []byte, messageCount uint32) []byte {
	start := len(dst)
	dst = beginMethod(dst, ch, IDBasicGetOk)
	dst = appendLonglong(dst, deliveryTag)
	dst = append(dst, bit(redelivered, 0))
	dst = appendShortbytes(dst, exchange)
	dst = appendShortbytes(dst, routingKey)
	dst = appendLong(dst, messageCount)
	return endFrame(dst, start)
}

// AppendBasicReturn appends a basic.return method frame.
func AppendBasicReturn(dst []byte, ch uint16, code uint16, text string, exchange, routingKey []byte) []byte {
	start := len(dst)
	dst = beginMethod(dst, ch, IDBasicReturn)
	dst = appendShort(dst, code)
	dst = appendShortstr(dst, text)
	dst = appendShortbytes(dst, exchange)
	dst = appendShortbytes(dst, routingKey)
	return endFrame(dst, start)
}

// AppendBasicAck appends a basic.ack method frame (a publisher confirm
// when the broker sends it).
func AppendBasicAck(dst []byte, ch uint16, tag uint64, multiple bool) []byte {
	start := len(dst)
	dst = beginMethod(dst, ch, IDBasicAck)
	dst = appendLonglong(dst, tag)
	dst = append(dst, bit(multiple, 0))
	return endFrame(dst, start)
}

// AppendBasicNack appends a basic.nack method frame.
func AppendBasicNack(dst []byte, ch uint16, tag uint64, multiple, requeue bool) []byte {
	start := len(dst)
	dst = beginMethod(dst, ch, IDBasicNack)
	dst = appendLonglong(dst, tag)
	dst = append(dst, bit(multiple, 0)|bit(requeue, 1))
	return endFrame(dst, start)
}
