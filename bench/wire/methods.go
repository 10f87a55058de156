package wire

// Encoders for the client-side methods the load tool sends. Each appends one
// complete method frame to dst.

// AppendStartOk appends connection.start-ok with PLAIN credentials.
func AppendStartOk(dst []byte, props Table, user, pass string) []byte {
	dst, s := AppendMethodHeader(dst, 0, ConnectionStartOk)
	dst = AppendTable(dst, props)
	dst = AppendShortstr(dst, "PLAIN")
	dst = AppendLongstr(dst, "\x00"+user+"\x00"+pass)
	dst = AppendShortstr(dst, "en_US")
	return EndFrame(dst, s)
}

// AppendTuneOk appends connection.tune-ok.
func AppendTuneOk(dst []byte, channelMax uint16, frameMax uint32, heartbeat uint16) []byte {
	dst, s := AppendMethodHeader(dst, 0, ConnectionTuneOk)
	dst = AppendShort(dst, channelMax)
	dst = AppendLong(dst, frameMax)
	dst = AppendShort(dst, heartbeat)
	return EndFrame(dst, s)
}

// AppendConnectionOpen appends connection.open for vhost.
func AppendConnectionOpen(dst []byte, vhost string) []byte {
	dst, s := AppendMethodHeader(dst, 0, ConnectionOpen)
	dst = AppendShortstr(dst, vhost)
	dst = AppendShortstr(dst, "")
	dst = append(dst, 0)
	return EndFrame(dst, s)
}

// AppendClose appends connection.close (ch 0) or channel.close (ch > 0).
func AppendClose(dst []byte, ch uint16, code uint16, text string) []byte {
	id := ConnectionClose
	if ch != 0 {
		id = ChannelClose
	}
	dst, s := AppendMethodHeader(dst, ch, id)
	dst = AppendShort(dst, code)
	dst = AppendShortstr(dst, text)
	dst = AppendShort(dst, 0)
	dst = AppendShort(dst, 0)
	return EndFrame(dst, s)
}

// AppendCloseOk appends connection.close-ok (ch 0) or channel.close-ok.
func AppendCloseOk(dst []byte, ch uint16) []byte {
	id := ConnectionCloseOk
	if ch != 0 {
		id = ChannelCloseOk
	}
	dst, s := AppendMethodHeader(dst, ch, id)
	return EndFrame(dst, s)
}

// AppendChannelOpen appends channel.open.
func AppendChannelOpen(dst []byte, ch uint16) []byte {
	dst, s := AppendMethodHeader(dst, ch, ChannelOpen)
	dst = AppendShortstr(dst, "")
	return EndFrame(dst, s)
}

// AppendExchangeDeclare appends exchange.declare (not passive, not internal).
func AppendExchangeDeclare(dst []byte, ch uint16, name, kind string, durable, autoDelete bool) []byte {
	dst, s := AppendMethodHeader(dst, ch, ExchangeDeclare)
	dst = AppendShort(dst, 0)
	dst = AppendShortstr(dst, name)
	dst = AppendShortstr(dst, kind)
	dst = append(dst, Bits(false, durable, autoDelete, false, false))
	dst = AppendTable(dst, nil)
	return EndFrame(dst, s)
}

// AppendExchangeDelete appends exchange.delete.
func AppendExchangeDelete(dst []byte, ch uint16, name string) []byte {
	dst, s := AppendMethodHeader(dst, ch, ExchangeDelete)
	dst = AppendShort(dst, 0)
	dst = AppendShortstr(dst, name)
	dst = append(dst, Bits(false, false))
	return EndFrame(dst, s)
}

// AppendQueueDeclare appends queue.declare.
func AppendQueueDeclare(dst []byte, ch uint16, name string, passive, durable, exclusive, autoDelete bool) []byte {
	return AppendQueueDeclareArgs(dst, ch, name, passive, durable, exclusive, autoDelete, nil)
}

// AppendQueueDeclareArgs appends queue.declare with arguments (x-message-ttl, ...).
func AppendQueueDeclareArgs(dst []byte, ch uint16, name string, passive, durable, exclusive, autoDelete bool, args Table) []byte {
	dst, s := AppendMethodHeader(dst, ch, QueueDeclare)
	dst = AppendShort(dst, 0)
	dst = AppendShortstr(dst, name)
	dst = append(dst, Bits(passive, durable, exclusive, autoDelete, false))
	dst = AppendTable(dst, args)
	return EndFrame(dst, s)
}

// AppendQueueBind appends queue.bind.
func AppendQueueBind(dst []byte, ch uint16, queue, exchange, key string) []byte {
	dst, s := AppendMethodHeader(dst, ch, QueueBind)
	dst = AppendShort(dst, 0)
	dst = AppendShortstr(dst, queue)
	dst = AppendShortstr(dst, exchange)
	dst = AppendShortstr(dst, key)
	dst = append(dst, 0)
	dst = AppendTable(dst, nil)
	return EndFrame(dst, s)
}

// AppendQueueDelete appends queue.delete (unconditional).
func AppendQueueDelete(dst []byte, ch uint16, name string) []byte {
	dst, s := AppendMethodHeader(dst, ch, QueueDelete)
	dst = AppendShort(dst, 0)
	dst = AppendShortstr(dst, name)
	dst = append(dst, Bits(false, false, false))
	return EndFrame(dst, s)
}

// AppendBasicQos appends basic.qos with a per-consumer prefetch count.
func AppendBasicQos(dst []byte, ch uint16, prefetch uint16) []byte {
	dst, s := AppendMethodHeader(dst, ch, BasicQos)
	dst = AppendLong(dst, 0)
	dst = AppendShort(dst, prefetch)
	dst = append(dst, 0)
	return EndFrame(dst, s)
}

// AppendBasicConsume appends basic.consume.
func AppendBasicConsume(dst []byte, ch uint16, queue, tag string, noAck bool) []byte {
	return AppendBasicConsumeArgs(dst, ch, queue, tag, noAck, nil)
}

// AppendBasicConsumeArgs appends basic.consume with arguments (x-stream-offset, ...).
func AppendBasicConsumeArgs(dst []byte, ch uint16, queue, tag string, noAck bool, args Table) []byte {
	dst, s := AppendMethodHeader(dst, ch, BasicConsume)
	dst = AppendShort(dst, 0)
	dst = AppendShortstr(dst, queue)
	dst = AppendShortstr(dst, tag)
	dst = append(dst, Bits(false, noAck, false, false))
	dst = AppendTable(dst, args)
	return EndFrame(dst, s)
}

// AppendBasicAck appends basic.ack.
func AppendBasicAck(dst []byte, ch uint16, tag uint64, multiple bool) []byte {
	dst, s := AppendMethodHeader(dst, ch, BasicAck)
	dst = AppendLonglong(dst, tag)
	dst = append(dst, Bits(multiple))
	return EndFrame(dst, s)
}

// AppendConfirmSelect appends confirm.select.
func AppendConfirmSelect(dst []byte, ch uint16) []byte {
	dst, s := AppendMethodHeader(dst, ch, ConfirmSelect)
	dst = append(dst, 0)
	return EndFrame(dst, s)
}
