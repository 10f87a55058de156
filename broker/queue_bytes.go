package broker

import "unsafe"

// Management's message_bytes and memory of a queue, read under the queue's
// lock for a moment (once per queue per listing, never on the message
// path): nothing here is counted per message.

// liveBytesStore is a store that knows the body bytes of every message not
// done yet, ready and in flight together.
type liveBytesStore interface{ liveBytes() int64 }

// liveBytes is the index's not-done bytes: ready plus in flight.
func (s *classicStore) liveBytes() int64 {
	if s.closed || s.idx == nil {
		return 0
	}
	_, b := s.idx.NotDone()
	return max(b, 0)
}

func (s *priorityStore) liveBytes() (n int64) {
	for _, i := range s.open {
		n += s.levels[i].liveBytes()
	}
	return n
}

// QueueBytes is a queue's message_bytes_ready, message_bytes_unacknowledged
// (body bytes of its ready messages and of those delivered and not yet
// acknowledged) and memory.
type QueueBytes struct {
	Ready, Unacked int64
	// Memory estimates the bytes the queue itself holds in memory: the
	// queue, its consumers, its store's bookkeeping and requeued runs.
	// Message bodies live in segment files (page cache, not counted), so a
	// deep backlog adds nothing here, where RabbitMQ's figure (the queue
	// process's heap) grows with the messages it keeps in RAM.
	Memory int64
}

// Bytes reads q's QueueBytes under its lock.
func (q *Queue) Bytes() QueueBytes {
	q.mu.Lock()
	defer q.mu.Unlock()
	var b QueueBytes
	b.Memory = int64(unsafe.Sizeof(*q)) + int64(len(q.Name))
	b.Memory += int64(cap(q.consumers)) * int64(unsafe.Sizeof(uintptr(0)))
	b.Memory += int64(len(q.consumers)) * int64(unsafe.Sizeof(Consumer{}))
	b.Memory += int64(cap(q.propsBuf))
	if q.deleted || q.st == nil {
		return b
	}
	b.Ready = q.readyBytesLocked()
	if s, ok := q.st.(liveBytesStore); ok {
		b.Unacked = max(s.liveBytes()-b.Ready, 0)
	}
	switch st := q.st.(type) {
	case *classicStore:
		b.Memory += classicMemory(st)
	case *priorityStore:
		b.Memory += int64(unsafe.Sizeof(*st)) + int64(cap(st.levels))*int64(unsafe.Sizeof(uintptr(0)))
		for _, i := range st.open {
			b.Memory += classicMemory(st.levels[i])
		}
	}
	return b
}

func classicMemory(s *classicStore) int64 {
	return int64(unsafe.Sizeof(*s)) + int64(cap(s.requeued))*int64(unsafe.Sizeof(TicketRun{}))
}
