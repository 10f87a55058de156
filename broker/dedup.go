package broker

import (
	"sync"

	"github.com/warrenmq/warren/frame"
)

// Message deduplication, as LavinMQ and the community plugin
// (noxdafox/rabbitmq-message-deduplication) define it. An exchange or a
// queue declared with x-message-deduplication = true drops a message whose
// deduplication header (x-deduplication-header unless the
// x-deduplication-header argument names another) has a value it has seen:
// an exchange does not route it (so a mandatory publish comes back), a queue
// does not enqueue it (the publish still counts as routed). A queue forgets
// a value once its message is delivered or dropped, so a duplicate is kept
// out only while the first one waits in the queue, as the plugin's
// queue-level deduplication does.
//
// The cache holds x-cache-size entries (default 128, LavinMQ's): a 64-bit
// hash of each value with its expiry, in a ring that overwrites its oldest
// entry when full (LavinMQ evicts the oldest too), so memory is bounded by
// the size whatever the traffic. x-cache-ttl (ms) bounds how long a value is
// remembered; a message's own x-cache-ttl header overrides it. Like
// LavinMQ's the cache lives in memory and starts empty after a restart,
// unless a durable exchange asks for x-cache-persistence = disk (the
// community plugin's option): then it is journalled (dedup_persist.go).
type dedupCache struct {
	header string
	ttl    int64 // ms; 0: entries expire only by eviction
	onDisk bool  // x-cache-persistence: disk (dedup_persist.go)

	mu    sync.Mutex
	ring  []dedupSlot
	next  int // the slot the next insert overwrites
	index map[uint64]int32
	log   *dedupLog // set for a durable exchange with onDisk
}

type dedupSlot struct {
	key     uint64
	expires int64 // unix ms; 0: never
	live    bool
}

const (
	dedupHeader      = "x-deduplication-header"
	dedupDefaultSize = 128
)

// dedupFromArgs validates the deduplication arguments of an exchange or a
// queue and returns its cache: nil when deduplication is off.
func dedupFromArgs(args frame.Table) (*dedupCache, error) {
	on, has := args["x-message-deduplication"]
	if !has {
		return nil, nil
	}
	enabled, ok := on.(bool)
	if !ok {
		return nil, frame.Errorf(frame.PreconditionFailed, "invalid arg 'x-message-deduplication': expected a boolean, got %s", tableType(on))
	}
	size, err := nonNegativeArg(args, "x-cache-size", dedupDefaultSize)
	if err != nil {
		return nil, err
	}
	ttl, err := nonNegativeArg(args, "x-cache-ttl", 0)
	if err != nil {
		return nil, err
	}
	header := dedupHeader
	if v, ok := args["x-deduplication-header"]; ok {
		s, isStr := v.(string)
		if !isStr || s == "" {
			return nil, frame.Errorf(frame.PreconditionFailed, "invalid arg 'x-deduplication-header': expected a header name, got %s", tableType(v))
		}
		header = s
	}
	onDisk := false
	if v, ok := args["x-cache-persistence"]; ok {
		switch s, _ := v.(string); s {
		case "memory":
		case "disk":
			onDisk = true
		default:
			return nil, frame.Errorf(frame.PreconditionFailed, "invalid arg 'x-cache-persistence': expected 'memory' or 'disk', got %v", v)
		}
	}
	if !enabled {
		return nil, nil
	}
	c := newDedupCache(int(min(max(size, 1), 1<<24)), ttl, header)
	c.onDisk = onDisk
	return c, nil
}

func nonNegativeArg(args frame.Table, k string, def int64) (int64, error) {
	v, ok := args[k]
	if !ok {
		return def, nil
	}
	n, isInt := intArg(v)
	if !isInt {
		return 0, frame.Errorf(frame.PreconditionFailed, "invalid arg '%s': expected an integer, got %s", k, tableType(v))
	}
	if n < 0 {
		return 0, frame.Errorf(frame.PreconditionFailed, "invalid arg '%s': %d is out of range", k, n)
	}
	return n, nil
}

func newDedupCache(size int, ttl int64, header string) *dedupCache {
	return &dedupCache{header: header, ttl: ttl, ring: make([]dedupSlot, size), index: make(map[uint64]int32, size)}
}

// seen reports whether a message with props is a duplicate; if it is not
// and it has a deduplication value, the value is remembered. The headers
// are read in place (frame.PropsHeaderField), so this allocates nothing.
func (c *dedupCache) seen(props []byte) bool {
	v, ok := frame.PropsHeaderField(props, c.header)
	if !ok {
		return false
	}
	key := dedupKeyRaw(v.Tag, v.Value)
	ttl := c.ttl
	if f, ok := frame.PropsHeaderField(props, "x-cache-ttl"); ok {
		if n, ok := rawInt(f.Tag, f.Value); ok && n >= 0 {
			ttl = n
		}
	}
	now := nowMs()
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.index[key]; ok {
		if s := c.ring[i]; s.expires == 0 || now < s.expires {
			return true
		}
		c.removeLocked(i)
	}
	var exp int64
	if ttl > 0 {
		exp = now + ttl
	}
	c.insertLocked(key, exp)
	if c.log != nil {
		c.log.record(c, key, exp)
	}
	return false
}

// insertLocked remembers key until exp, in place of the oldest entry when
// the ring is full. REQUIRES: c.mu held.
func (c *dedupCache) insertLocked(key uint64, exp int64) {
	i := c.next
	c.next = (c.next + 1) % len(c.ring)
	if c.ring[i].live {
		c.removeLocked(int32(i)) // the oldest entry goes
	}
	c.ring[i] = dedupSlot{key: key, expires: exp, live: true}
	c.index[key] = int32(i)
}

// forget drops the value of the message with props, which left the queue.
func (c *dedupCache) forget(props []byte) {
	v, ok := frame.PropsHeaderField(props, c.header)
	if !ok {
		return
	}
	key := dedupKeyRaw(v.Tag, v.Value)
	c.mu.Lock()
	if i, ok := c.index[key]; ok {
		c.removeLocked(i)
	}
	c.mu.Unlock()
}

// reset forgets every value (queue.purge).
func (c *dedupCache) reset() {
	c.mu.Lock()
	clear(c.ring)
	clear(c.index)
	c.next = 0
	c.mu.Unlock()
}

// len is the number of values remembered.
func (c *dedupCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.index)
}

func (c *dedupCache) removeLocked(i int32) {
	delete(c.index, c.ring[i].key)
	c.ring[i] = dedupSlot{}
}

// dedupKeyRaw hashes a header value, given as its field-table tag and
// bytes, with its kind (FNV-1a, 64 bits), so the string "1" and the
// number 1 differ while integers of different widths are the same value.
// Strings and integers hash as they did when the cache decoded the table
// (x-cache-persistence files stay valid).
func dedupKeyRaw(tag byte, v []byte) uint64 {
	switch tag {
	case 'S', 'x':
		h := fnvByte(fnvOffset, tag)
		for _, b := range v[min(4, len(v)):] {
			h = fnvByte(h, b)
		}
		return h
	}
	if n, ok := rawInt(tag, v); ok {
		h := fnvByte(fnvOffset, 'l')
		for i := range 8 {
			h = fnvByte(h, byte(uint64(n)>>(8*i)))
		}
		return h
	}
	h := fnvByte(fnvByte(fnvOffset, '?'), tag)
	for _, b := range v {
		h = fnvByte(h, b)
	}
	return h
}

// rawInt is an integer field's value from its tag and big-endian bytes.
func rawInt(tag byte, v []byte) (int64, bool) {
	var n uint // bytes
	signed := true
	switch tag {
	case 'b':
		n = 1
	case 'B':
		n, signed = 1, false
	case 's':
		n = 2
	case 'u':
		n, signed = 2, false
	case 'I':
		n = 4
	case 'i':
		n, signed = 4, false
	case 'l':
		n = 8
	}
	if n == 0 || uint(len(v)) < n {
		return 0, false
	}
	var x uint64
	for _, c := range v[:n] {
		x = x<<8 | uint64(c)
	}
	if shift := 64 - 8*n; signed {
		return int64(x<<shift) >> shift, true // sign-extended
	}
	return int64(x), true
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvByte(h uint64, b byte) uint64 { return (h ^ uint64(b)) * fnvPrime }

// forgetLocked lets a deduplicating queue accept d's value again: d left
// the queue (delivered or dropped). REQUIRES: q.mu held.
func (q *Queue) forgetLocked(d Delivery) {
	if q.dedup != nil {
		q.dedup.forget(d.Props)
	}
}
