package broker

import (
	"crypto/rand"
	"encoding/base64"
	"strings"

	"github.com/warrenmq/warren/frame"
)

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
// been generated) with its ready and consumer counts, once a durable one
// is on disk.
func (v *VHost) QueueDeclare(p *Principal, o QueueDeclareOptions) (*Queue, error) {
	q, c, err := v.QueueDeclareAsync(p, o)
	if err != nil {
		return nil, err
	}
	if err := c.Wait(); err != nil {
		return nil, err
	}
	return q, nil
}

// QueueDeclareAsync is QueueDeclare without the wait: declare-ok must go
// out only once the Commit is durable. Many declarers share one fsync.
func (v *VHost) QueueDeclareAsync(p *Principal, o QueueDeclareOptions) (*Queue, Commit, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if o.Name != "" {
		if q, ok := v.queues[o.Name]; ok {
			if q.Exclusive && q.Owner != o.Owner {
				return nil, Commit{}, lockedErr(v, o.Name)
			}
			if err := v.permitQueueRedeclare(p, o); err != nil {
				return nil, Commit{}, err
			}
			if !o.Passive {
				if err := checkQueueEquivalent(v, q, o); err != nil {
					return nil, Commit{}, err
				}
			}
			q.Touch()
			var c Commit
			if storedQueue(q) {
				c = v.pendingLocked()
			}
			v.b.queueCounts.declared.Add(1)
			return q, c, nil
		}
		if o.Passive {
			return nil, Commit{}, notFoundQueue(v, o.Name)
		}
		if strings.HasPrefix(o.Name, "amq.") {
			return nil, Commit{}, frame.Errorf(frame.AccessRefused, "queue name '%s' contains reserved prefix 'amq.*'", o.Name)
		}
	} else {
		if o.Passive {
			return nil, Commit{}, notFoundQueue(v, o.Name)
		}
		o.Name = generateQueueName()
	}
	if err := v.permitQueueDeclare(p, o.Name, o.Args); err != nil {
		return nil, Commit{}, err
	}
	if err := validateQueueArgs(o.Args); err != nil {
		return nil, Commit{}, err
	}
	if err := checkQueueTypeArgs(v, o.Name, o.Args); err != nil {
		return nil, Commit{}, err
	}
	if err := validateConsumerSideQueueArgs(v, o.Name, o.Args); err != nil {
		return nil, Commit{}, err
	}
	if err := validateStreamDeclare(o, v.Name); err != nil {
		return nil, Commit{}, err
	}
	if err := validateQuorumDeclare(o, v.Name); err != nil {
		return nil, Commit{}, err
	}
	if err := validateLimitArgs(o.Name, v.Name, o.Args); err != nil {
		return nil, Commit{}, err
	}
	if err := checkSupportedQueueArgs(o.Args); err != nil {
		return nil, Commit{}, err
	}
	if err := v.checkQueueLimitLocked(o.Name); err != nil {
		return nil, Commit{}, err
	}
	q, err := v.createQueueLocked(o)
	if err != nil {
		return nil, Commit{}, err
	}
	v.b.queueCounts.declared.Add(1)
	v.b.queueCounts.created.Add(1)
	if !storedQueue(q) {
		return q, Commit{}, nil
	}
	c, err := v.journalLocked(queueChange(opQueueDeclare, q), true)
	if err != nil {
		v.dropQueueLocked(q) // not on disk: as if never declared
		return nil, Commit{}, err
	}
	return q, c, nil
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
	dedup, err := queueDedupFromArgs(o.Args)
	if err != nil {
		return nil, err
	}
	q := &Queue{
		Name: o.Name, Durable: o.Durable, Exclusive: o.Exclusive, AutoDelete: o.AutoDelete,
		Args: o.Args, vhost: v, cfg: v.queueSettingsLocked(o.Name, o.Args), dedup: dedup,
	}
	st, err := v.openQueueStore(q) // store_unopened.go
	if err != nil {
		return nil, frame.Errorf(frame.InternalError, "cannot open queue storage: %v", err)
	}
	q.st = st
	q.openDeliveryCountsLocked() // limits_delivery_counts.go
	if o.Exclusive {
		q.Owner = o.Owner
	}
	// Start the features (TTL timers, length limits on restored
	// messages). Work this defers (dead lettering, which routes through
	// v) runs on the timer goroutine, not here under v.mu.
	q.mu.Lock()
	q.applySettingsLocked()
	q.unlockDeferringLater()
	v.queues[o.Name] = q
	v.topoGen.Add(1)
	return q, nil
}

func generateQueueName() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "amq.gen-" + base64.RawURLEncoding.EncodeToString(b[:])
}

// QueueDeleteOptions are queue.delete's conditions.
type QueueDeleteOptions struct {
	IfUnused bool // refuse while the queue has consumers
	IfEmpty  bool // refuse while the queue holds messages, ready or unacked
}

// QueueDelete is queue.delete; it returns the number of messages dropped.
// Deleting a missing queue succeeds with 0, as in RabbitMQ.
func (v *VHost) QueueDelete(p *Principal, name string, o QueueDeleteOptions, conn uint64) (int, error) {
	n, c, err := v.QueueDeleteAsync(p, name, o, conn)
	if err != nil {
		return n, err
	}
	return n, c.Wait()
}

// QueueDeleteAsync is QueueDelete without the wait: delete-ok must go out
// only once the Commit is durable.
func (v *VHost) QueueDeleteAsync(p *Principal, name string, o QueueDeleteOptions, conn uint64) (int, Commit, error) {
	if err := v.permitQueue(p, permConfigure, name); err != nil {
		return 0, Commit{}, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	q, ok := v.queues[name]
	if !ok {
		return 0, Commit{}, nil
	}
	if q.Exclusive && q.Owner != conn {
		return 0, Commit{}, lockedErr(v, name)
	}
	if o.IfUnused && q.ConsumerCount() > 0 {
		return 0, Commit{}, frame.Errorf(frame.PreconditionFailed, "queue '%s' in vhost '%s' in use", name, v.Name)
	}
	if o.IfEmpty && (q.Ready() > 0 || q.Unacked() > 0) {
		return 0, Commit{}, frame.Errorf(frame.PreconditionFailed, "queue '%s' in vhost '%s' not empty", name, v.Name)
	}
	return v.deleteQueueLocked(q)
}

// deleteQueueLocked records q's deletion, then deletes it. If the record
// cannot be written the queue stays, and the error says why.
func (v *VHost) deleteQueueLocked(q *Queue) (int, Commit, error) {
	if v.queues[q.Name] != q {
		return 0, Commit{}, nil
	}
	var c Commit
	if storedQueue(q) {
		var err error
		if c, err = v.journalLocked(queueChange(opQueueDelete, q), false); err != nil {
			return 0, Commit{}, err
		}
	}
	touched, n, err := v.dropQueueLocked(q)
	v.autoDeleteExchangesLocked(touched)
	return n, c, err
}

// dropQueueLocked removes q from memory and deletes its files; it returns
// the exchanges that lost a binding and how many messages went.
func (v *VHost) dropQueueLocked(q *Queue) ([]string, int, error) {
	delete(v.queues, q.Name)
	v.topoGen.Add(1)
	touched := v.router.RemoveQueue(q)
	n, err := q.markDeleted()
	v.foldDeletedLocked(q)
	return touched, n, err
}

// DeleteIfAutoDelete deletes q after its last consumer went, if still so.
func (v *VHost) DeleteIfAutoDelete(q *Queue) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if q.ConsumerCount() == 0 {
		_, _, err := v.deleteQueueLocked(q)
		logErr("auto-delete queue", err, "queue", q.Name, "vhost", v.Name)
	}
}

// ConnectionClosed deletes the exclusive queues conn owned.
func (v *VHost) ConnectionClosed(conn uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, q := range v.queues {
		if q.Exclusive && q.Owner == conn {
			_, _, _ = v.deleteQueueLocked(q) // exclusive: never recorded
		}
	}
}
