package broker

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/warrenmq/warren/frame"
	"github.com/warrenmq/warren/router"
	"github.com/warrenmq/warren/segment"
)

// VHost is a virtual host: its own exchanges, queues and bindings.
type VHost struct {
	Name   string
	b      *Broker
	dir    string
	router *router.Router[*Queue]

	mu        sync.RWMutex
	exchanges map[string]*Exchange
	queues    map[string]*Queue
	// topoGen changes whenever an exchange or queue is added or removed, so
	// publishers can cache their lookups (PublishCache) and skip mu.
	topoGen atomic.Uint64
}

// PublishCache remembers one publisher's last exchange and default-exchange
// queue lookups; it is valid while the vhost's topology generation holds.
// Owned by one channel; not safe for concurrent use.
type PublishCache struct {
	gen      uint64
	exchange []byte
	x        *Exchange
	key      []byte
	q        *Queue
}

func newVHost(b *Broker, name string) (*VHost, error) {
	v := &VHost{
		Name:      name,
		b:         b,
		dir:       filepath.Join(b.cfg.DataDir, "vhosts", nameDir(name)),
		router:    router.New[*Queue](),
		exchanges: make(map[string]*Exchange),
		queues:    make(map[string]*Queue),
	}
	for _, x := range defaultExchanges {
		x := x
		k, _ := router.ParseKind(x.Type)
		x.Kind = k
		if x.Name != "" {
			if err := v.router.AddExchange(x.Name, k); err != nil {
				return nil, err
			}
		}
		v.exchanges[x.Name] = &x
	}
	return v, nil
}

func notFoundExchange(v *VHost, name string) error {
	return frame.Errorf(frame.NotFound, "no exchange '%s' in vhost '%s'", name, v.Name)
}

func notFoundQueue(v *VHost, name string) error {
	return frame.Errorf(frame.NotFound, "no queue '%s' in vhost '%s'", name, v.Name)
}

// ExchangeDeclare is exchange.declare.
func (v *VHost) ExchangeDeclare(name, typ string, passive, durable, autoDelete, internal bool, args frame.Table) error {
	if name == "" {
		return frame.Errorf(frame.AccessRefused, "operation not permitted on the default exchange")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	x, ok := v.exchanges[name]
	if passive {
		if !ok {
			return notFoundExchange(v, name)
		}
		return nil
	}
	kind, known := router.ParseKind(typ)
	if !known {
		return frame.Errorf(frame.CommandInvalid, "unknown exchange type '%s'", typ)
	}
	if ok {
		return checkExchangeEquivalent(v, x, typ, durable, autoDelete, internal)
	}
	if strings.HasPrefix(name, "amq.") {
		return frame.Errorf(frame.AccessRefused, "exchange name '%s' contains reserved prefix 'amq.*'", name)
	}
	if err := v.router.AddExchange(name, kind); err != nil {
		return frame.Errorf(frame.PreconditionFailed, "%v", err)
	}
	v.exchanges[name] = &Exchange{Name: name, Type: typ, Kind: kind, Durable: durable, AutoDelete: autoDelete, Internal: internal, Args: args}
	v.topoGen.Add(1)
	if durable {
		v.b.saveDefinitionsLocked(v)
	}
	return nil
}

func checkExchangeEquivalent(v *VHost, x *Exchange, typ string, durable, autoDelete, internal bool) error {
	field, rcv, cur := "", "", ""
	switch {
	case x.Type != typ:
		field, rcv, cur = "type", typ, x.Type
	case x.Durable != durable:
		field, rcv, cur = "durable", boolStr(durable), boolStr(x.Durable)
	case x.AutoDelete != autoDelete:
		field, rcv, cur = "auto_delete", boolStr(autoDelete), boolStr(x.AutoDelete)
	case x.Internal != internal:
		field, rcv, cur = "internal", boolStr(internal), boolStr(x.Internal)
	default:
		return nil
	}
	return frame.Errorf(frame.PreconditionFailed,
		"inequivalent arg '%s' for exchange '%s' in vhost '%s': received '%s' but current is '%s'",
		field, x.Name, v.Name, rcv, cur)
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// ExchangeDelete is exchange.delete; deleting a missing exchange succeeds.
func (v *VHost) ExchangeDelete(name string, ifUnused bool) error {
	if name == "" {
		return frame.Errorf(frame.AccessRefused, "operation not permitted on the default exchange")
	}
	if strings.HasPrefix(name, "amq.") {
		return frame.Errorf(frame.AccessRefused, "deletion of system exchange '%s' in vhost '%s' not allowed", name, v.Name)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	x, ok := v.exchanges[name]
	if !ok {
		return nil
	}
	if ifUnused && v.router.HasBindings(name) {
		return frame.Errorf(frame.PreconditionFailed, "exchange '%s' in vhost '%s' in use", name, v.Name)
	}
	v.deleteExchangeLocked(x)
	return nil
}

func (v *VHost) deleteExchangeLocked(x *Exchange) {
	v.router.RemoveExchange(x.Name)
	delete(v.exchanges, x.Name)
	v.topoGen.Add(1)
	if x.Durable {
		v.b.saveDefinitionsLocked(v)
	}
}

// autoDeleteExchangesLocked removes auto-delete exchanges that lost their
// last binding as a source.
func (v *VHost) autoDeleteExchangesLocked(names []string) {
	for _, n := range names {
		if x, ok := v.exchanges[n]; ok && x.AutoDelete && !v.router.HasBindings(n) {
			v.deleteExchangeLocked(x)
		}
	}
}

// Exchange returns a declared exchange.
func (v *VHost) Exchange(name string) (*Exchange, bool) {
	v.mu.RLock()
	x, ok := v.exchanges[name]
	v.mu.RUnlock()
	return x, ok
}

// QueueDeclareOptions are queue.declare's fields.
type QueueDeclareOptions struct {
	Name       string
	Passive    bool
	Durable    bool
	Exclusive  bool
	AutoDelete bool
	Args       frame.Table
	Owner      uint64 // declaring connection
}

// QueueDeclare is queue.declare. It returns the queue (whose name may have
// been generated) with its ready and consumer counts.
func (v *VHost) QueueDeclare(o QueueDeclareOptions) (*Queue, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if o.Name != "" {
		if q, ok := v.queues[o.Name]; ok {
			if q.Exclusive && q.Owner != o.Owner {
				return nil, lockedErr(v, o.Name)
			}
			if o.Passive {
				return q, nil
			}
			if err := checkQueueEquivalent(v, q, o); err != nil {
				return nil, err
			}
			return q, nil
		}
		if o.Passive {
			return nil, notFoundQueue(v, o.Name)
		}
		if strings.HasPrefix(o.Name, "amq.") {
			return nil, frame.Errorf(frame.AccessRefused, "queue name '%s' contains reserved prefix 'amq.*'", o.Name)
		}
	} else {
		if o.Passive {
			return nil, notFoundQueue(v, o.Name)
		}
		o.Name = generateQueueName()
	}
	if err := validateQueueArgs(o.Args); err != nil {
		return nil, err
	}
	if err := checkSupportedQueueArgs(o.Args); err != nil {
		return nil, err
	}
	q, err := v.createQueueLocked(o)
	if err != nil {
		return nil, err
	}
	if q.Durable {
		v.b.saveDefinitionsLocked(v)
	}
	return q, nil
}

func lockedErr(v *VHost, name string) error {
	return frame.Errorf(frame.ResourceLocked,
		"cannot obtain exclusive access to locked queue '%s' in vhost '%s'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.",
		name, v.Name)
}

func checkQueueEquivalent(v *VHost, q *Queue, o QueueDeclareOptions) error {
	field, rcv, cur := "", false, false
	switch {
	case q.Durable != o.Durable:
		field, rcv, cur = "durable", o.Durable, q.Durable
	case q.AutoDelete != o.AutoDelete:
		field, rcv, cur = "auto_delete", o.AutoDelete, q.AutoDelete
	case q.Exclusive != o.Exclusive:
		field, rcv, cur = "exclusive", o.Exclusive, q.Exclusive
	default:
		return checkQueueArgsEquivalent(q, o.Args)
	}
	return frame.Errorf(frame.PreconditionFailed,
		"inequivalent arg '%s' for queue '%s' in vhost '%s': received '%s' but current is '%s'",
		field, q.Name, v.Name, boolStr(rcv), boolStr(cur))
}

func (v *VHost) createQueueLocked(o QueueDeclareOptions) (*Queue, error) {
	dir := v.b.queueDir(v, o.Name, o.Durable)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, frame.Errorf(frame.InternalError, "cannot create queue storage: %v", err)
	}
	st, err := openStore(dir, storeOptions{Durable: o.Durable, SegmentSize: v.b.cfg.SegmentSize, Syncer: v.b.syncer})
	if err != nil {
		return nil, frame.Errorf(frame.InternalError, "cannot open queue storage: %v", err)
	}
	q := &Queue{
		Name: o.Name, Durable: o.Durable, Exclusive: o.Exclusive, AutoDelete: o.AutoDelete,
		Args: o.Args, vhost: v, st: st, maxLength: -1,
	}
	if o.Exclusive {
		q.Owner = o.Owner
	}
	if n, ok := intArg(o.Args["x-max-length"]); ok {
		q.maxLength = n
	}
	q.readyN.Store(int64(st.readyCount()))
	v.queues[o.Name] = q
	v.topoGen.Add(1)
	return q, nil
}

func generateQueueName() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "amq.gen-" + base64.RawURLEncoding.EncodeToString(b[:])
}

// Queue looks a queue up, checking exclusive ownership for conn.
func (v *VHost) Queue(name string, conn uint64) (*Queue, error) {
	v.mu.RLock()
	q, ok := v.queues[name]
	v.mu.RUnlock()
	if !ok {
		return nil, notFoundQueue(v, name)
	}
	if q.Exclusive && q.Owner != conn {
		return nil, lockedErr(v, name)
	}
	return q, nil
}

// QueueDelete is queue.delete; it returns the number of messages dropped.
// Deleting a missing queue succeeds with 0, as in RabbitMQ.
func (v *VHost) QueueDelete(name string, ifUnused, ifEmpty bool, conn uint64) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	q, ok := v.queues[name]
	if !ok {
		return 0, nil
	}
	if q.Exclusive && q.Owner != conn {
		return 0, lockedErr(v, name)
	}
	if ifUnused && q.ConsumerCount() > 0 {
		return 0, frame.Errorf(frame.PreconditionFailed, "queue '%s' in vhost '%s' in use", name, v.Name)
	}
	if ifEmpty && (q.Ready() > 0 || q.Unacked() > 0) {
		return 0, frame.Errorf(frame.PreconditionFailed, "queue '%s' in vhost '%s' is not empty", name, v.Name)
	}
	return v.deleteQueueLocked(q)
}

func (v *VHost) deleteQueueLocked(q *Queue) (int, error) {
	if v.queues[q.Name] != q {
		return 0, nil
	}
	delete(v.queues, q.Name)
	v.topoGen.Add(1)
	touched := v.router.RemoveQueue(q)
	n, err := q.markDeleted()
	if q.Durable {
		v.b.saveDefinitionsLocked(v)
	}
	v.autoDeleteExchangesLocked(touched)
	return n, err
}

// DeleteIfAutoDelete deletes q after its last consumer went, if still so.
func (v *VHost) DeleteIfAutoDelete(q *Queue) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if q.ConsumerCount() == 0 {
		_, _ = v.deleteQueueLocked(q)
	}
}

// ConnectionClosed deletes the exclusive queues conn owned.
func (v *VHost) ConnectionClosed(conn uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, q := range v.queues {
		if q.Exclusive && q.Owner == conn {
			_, _ = v.deleteQueueLocked(q)
		}
	}
}

// QueueBind is queue.bind, or queue.unbind with unbind set (a missing
// binding is not an error).
func (v *VHost) QueueBind(queue, exchange, key string, args frame.Table, conn uint64, unbind bool) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	q, ok := v.queues[queue]
	if !ok {
		return notFoundQueue(v, queue)
	}
	if q.Exclusive && q.Owner != conn {
		return lockedErr(v, queue)
	}
	x, ok := v.exchanges[exchange]
	if !ok {
		return notFoundExchange(v, exchange)
	}
	if x.Name == "" {
		return frame.Errorf(frame.AccessRefused, "operation not permitted on the default exchange")
	}
	var err error
	if unbind {
		err = v.router.Unbind(exchange, q, key, args)
	} else {
		err = v.router.Bind(exchange, q, key, args)
	}
	if err != nil {
		return frame.Errorf(frame.PreconditionFailed, "%v", err)
	}
	if q.Durable && x.Durable {
		v.b.saveDefinitionsLocked(v)
	}
	if unbind {
		v.autoDeleteExchangesLocked([]string{exchange})
	}
	return nil
}

// ExchangeBind is exchange.bind (destination receives from source).
func (v *VHost) ExchangeBind(dst, src, key string, args frame.Table, unbind bool) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, n := range []string{dst, src} {
		if n == "" {
			return frame.Errorf(frame.AccessRefused, "operation not permitted on the default exchange")
		}
	}
	dx, ok := v.exchanges[dst]
	if !ok {
		return notFoundExchange(v, dst)
	}
	sx, ok := v.exchanges[src]
	if !ok {
		return notFoundExchange(v, src)
	}
	var err error
	if unbind {
		err = v.router.UnbindExchange(src, dst, key, args)
	} else {
		err = v.router.BindExchange(src, dst, key, args)
	}
	if err != nil {
		return frame.Errorf(frame.PreconditionFailed, "%v", err)
	}
	if dx.Durable && sx.Durable {
		v.b.saveDefinitionsLocked(v)
	}
	if unbind {
		v.autoDeleteExchangesLocked([]string{src})
	}
	return nil
}

// lookupForPublish finds the exchange and, for the default exchange, the
// queue, from the cache when the topology has not changed since.
func (v *VHost) lookupForPublish(m *Message, c *PublishCache) (*Exchange, *Queue) {
	gen := v.topoGen.Load()
	if c.gen == gen && c.x != nil && bytes.Equal(c.exchange, m.Exchange) {
		if c.x.Name != "" || bytes.Equal(c.key, m.RoutingKey) {
			return c.x, c.q
		}
	}
	v.mu.RLock()
	gen = v.topoGen.Load()
	x := v.exchanges[string(m.Exchange)]
	var q *Queue
	if x != nil && x.Name == "" {
		q = v.queues[string(m.RoutingKey)]
	}
	v.mu.RUnlock()
	c.gen, c.x, c.q = gen, x, q
	c.exchange = append(c.exchange[:0], m.Exchange...)
	c.key = append(c.key[:0], m.RoutingKey...)
	return x, q
}

// Publish routes m and stores it in every target queue. scratch is reused
// to avoid an allocation per message; the grown slice is returned.
func (v *VHost) Publish(m *Message, cache *PublishCache, scratch []*Queue) (PublishResult, []*Queue, error) {
	var res PublishResult
	scratch = scratch[:0]
	x, q := v.lookupForPublish(m, cache)
	if x == nil {
		return res, scratch, notFoundExchange(v, string(m.Exchange))
	}
	if x.Internal {
		return res, scratch, frame.Errorf(frame.AccessRefused, "cannot publish to internal exchange '%s' in vhost '%s'", x.Name, v.Name)
	}
	if q != nil {
		scratch = append(scratch, q)
	}
	if x.Name != "" {
		scratch = v.router.Route(x.Name, m.RoutingKey, m.headers, scratch)
	}
	for _, q := range scratch {
		gen, stored, err := q.publish(m)
		if errors.Is(err, segment.ErrClosed) {
			// The queue's storage failed (see store.recoverFault): close this
			// channel, not the connection, so unconfirmed publishes are not
			// taken as safe and other queues carry on.
			return res, scratch, frame.Errorf(frame.PreconditionFailed, "queue '%s' in vhost '%s' is unavailable: its storage failed", q.Name, v.Name)
		}
		if err != nil {
			return res, scratch, frame.Errorf(frame.InternalError, "%v", err)
		}
		if stored {
			res.Routed++
			if m.Persistent && gen > res.SyncGen {
				res.SyncGen = gen
			}
		}
	}
	return res, scratch, nil
}

// headers decodes the headers table only when a headers exchange asks.
func (m *Message) headers() frame.Table {
	t, _ := frame.PropsHeaders(m.Props)
	return t
}
