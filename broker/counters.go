package broker

import (
	"iter"
	"slices"
	"sync/atomic"

	"github.com/warrenmq/warren/segment"
)

// Broker-wide monotonic totals for Prometheus (RabbitMQ's
// rabbitmq_*_opened_total, rabbitmq_queues_*_total, rabbitmq_global_*).
//
// The live counters sit on the objects that do the work (Queue,
// ChannelEntry), added to without contention by the goroutine that already
// touches the message. A total is the sum of the live objects plus what the
// objects that went away had counted: a queue's counts are folded into its
// vhost when it is deleted (under VHost.mu, which readers of the queue map
// hold too), a channel's into its connection when it closes and a
// connection's into the registry when it goes (under the lock that guards
// the list it leaves). So a sum read under the same locks never falls.

// Lifecycle counts, one atomic add per open, close, declare or delete: off
// the message path. The connection and channel ones live in the Registry.
type queueLifecycle struct {
	declared atomic.Uint64
	created  atomic.Uint64
	deleted  atomic.Uint64
}

type connLifecycle struct {
	connsOpened atomic.Uint64
	connsClosed atomic.Uint64
	chansOpened atomic.Uint64
	chansClosed atomic.Uint64
}

// Lifecycle is a snapshot of the broker's lifecycle totals.
type Lifecycle struct {
	ConnectionsOpened, ConnectionsClosed uint64
	ChannelsOpened, ChannelsClosed       uint64
	QueuesDeclared, QueuesCreated        uint64
	QueuesDeleted                        uint64
}

// Lifecycle reads the lifecycle totals.
func (b *Broker) Lifecycle() Lifecycle {
	c, q := &b.reg.lifecycle, &b.queueCounts
	return Lifecycle{
		ConnectionsOpened: c.connsOpened.Load(), ConnectionsClosed: c.connsClosed.Load(),
		ChannelsOpened: c.chansOpened.Load(), ChannelsClosed: c.chansClosed.Load(),
		QueuesDeclared: q.declared.Load(), QueuesCreated: q.created.Load(),
		QueuesDeleted: q.deleted.Load(),
	}
}

// QueueTotals are a queue's message counters, or the sum over queues.
type QueueTotals struct {
	Published, Delivered, Acked uint64
	// Gets with and without acknowledgement, redeliveries (management's
	// message_stats).
	Got, GotNoAck, Redelivered uint64
}

func (t *QueueTotals) add(q *Queue) {
	t.Published += q.Published.Load()
	t.Delivered += q.Delivered.Load()
	t.Acked += q.Acked.Load()
	t.Got += q.Got.Load()
	t.GotNoAck += q.GotNoAck.Load()
	t.Redelivered += q.Redelivered.Load()
}

// foldDeletedLocked keeps a deleted queue's counts in the vhost's totals;
// v.mu is held and q is marked deleted, so its counters no longer move.
func (v *VHost) foldDeletedLocked(q *Queue) {
	v.deletedTotals.add(q)
	v.b.queueCounts.deleted.Add(1)
}

// A deleted vhost leaves b.vhosts at once but drops its queues only after
// its connections are told to close; meanwhile it is listed in
// deletingVHosts so that Stats still sums it, and once its queues are folded
// into its deletedTotals those move to b.goneTotals. b.mu is taken before
// v.mu, as Stats takes them.

func (b *Broker) deletingVHostLocked(v *VHost) { b.deletingVHosts = append(b.deletingVHosts, v) }

func (b *Broker) undeletingVHostLocked(v *VHost) {
	if i := slices.Index(b.deletingVHosts, v); i >= 0 {
		b.deletingVHosts = slices.Delete(b.deletingVHosts, i, i+1)
	}
}

// foldDeletedVHost moves a deleted vhost's counts, its queues all dropped,
// into the broker's.
func (b *Broker) foldDeletedVHost(v *VHost) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v.mu.RLock()
	t := v.deletedTotals
	for _, q := range v.queues {
		t.add(q)
	}
	v.mu.RUnlock()
	b.goneTotals.merge(&t)
	b.undeletingVHostLocked(v)
}

// allVHostsLocked yields the vhosts and the ones being deleted; b.mu is
// held.
func (b *Broker) allVHostsLocked() iter.Seq[*VHost] {
	return func(yield func(*VHost) bool) {
		for _, v := range b.vhosts {
			if !yield(v) {
				return
			}
		}
		for _, v := range b.deletingVHosts {
			if !yield(v) {
				return
			}
		}
	}
}

func (t *QueueTotals) merge(o *QueueTotals) {
	t.Published += o.Published
	t.Delivered += o.Delivered
	t.Acked += o.Acked
	t.Got += o.Got
	t.GotNoAck += o.GotNoAck
	t.Redelivered += o.Redelivered
}

// ChannelCounters are the per-channel counts behind rabbitmq_global_*
// beyond ChannelEntry's Published, Delivered and Acked. Each is added to by
// the goroutine that does the thing (the connection's for publishes and
// confirms, the delivering one for deliveries).
type ChannelCounters struct {
	PublishedConfirm   atomic.Uint64 // received on a channel in confirm mode
	Routed             atomic.Uint64 // received and routed to at least one queue
	UnroutableDropped  atomic.Uint64 // routed nowhere, not mandatory
	UnroutableReturned atomic.Uint64 // routed nowhere, mandatory: basic.return
	Confirmed          atomic.Uint64 // publishes confirmed with basic.ack
	ConsumeAutoAck     atomic.Uint64 // basic.deliver to a no-ack consumer
	ConsumeManualAck   atomic.Uint64 // basic.deliver to a consumer that acks
	GetAutoAck         atomic.Uint64 // basic.get-ok with no-ack
	GetManualAck       atomic.Uint64 // basic.get-ok that awaits an ack
	GetEmpty           atomic.Uint64 // basic.get-empty
	Redelivered        atomic.Uint64 // deliveries or gets with redelivered set
}

// ChannelTotals is the sum of channels' counters.
type ChannelTotals struct {
	Published, Delivered, Acked                 uint64
	PublishedConfirm, Routed                    uint64
	UnroutableDropped, UnroutableReturned       uint64
	Confirmed, ConsumeAutoAck, ConsumeManualAck uint64
	GetAutoAck, GetManualAck, GetEmpty          uint64
	Redelivered                                 uint64
}

func (t *ChannelTotals) add(ch *ChannelEntry) {
	t.Published += ch.Published.Load()
	t.Delivered += ch.DeliveredCount()
	t.Acked += ch.Acked.Load()
	t.PublishedConfirm += ch.PublishedConfirm.Load()
	t.Routed += ch.Routed.Load()
	t.UnroutableDropped += ch.UnroutableDropped.Load()
	t.UnroutableReturned += ch.UnroutableReturned.Load()
	t.Confirmed += ch.Confirmed.Load()
	t.ConsumeAutoAck += ch.ConsumeAutoAck.Load()
	t.ConsumeManualAck += ch.ConsumeManualAck.Load()
	t.GetAutoAck += ch.GetAutoAck.Load()
	t.GetManualAck += ch.GetManualAck.Load()
	t.GetEmpty += ch.GetEmpty.Load()
	t.Redelivered += ch.Redelivered.Load()
}

func (t *ChannelTotals) merge(o *ChannelTotals) {
	t.Published += o.Published
	t.Delivered += o.Delivered
	t.Acked += o.Acked
	t.PublishedConfirm += o.PublishedConfirm
	t.Routed += o.Routed
	t.UnroutableDropped += o.UnroutableDropped
	t.UnroutableReturned += o.UnroutableReturned
	t.Confirmed += o.Confirmed
	t.ConsumeAutoAck += o.ConsumeAutoAck
	t.ConsumeManualAck += o.ConsumeManualAck
	t.GetAutoAck += o.GetAutoAck
	t.GetManualAck += o.GetManualAck
	t.GetEmpty += o.GetEmpty
	t.Redelivered += o.Redelivered
}

// channelClosedLocked folds ch into e; e.mu is held.
func (e *ConnEntry) channelClosedLocked(ch *ChannelEntry) {
	e.closedChannels.add(ch)
	if e.reg != nil {
		e.reg.lifecycle.chansClosed.Add(1)
	}
}

// ChannelCounts sums the counters of every channel the broker ever had and
// returns the number open now. It takes the registry's locks in their
// order (Registry.mu, then each ConnEntry.mu), the same ones closing takes
// to fold, so the sums never fall.
func (r *Registry) ChannelCounts() (ChannelTotals, int) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t := r.closedTotals
	open := 0
	for _, e := range r.conns {
		e.mu.Lock()
		t.merge(&e.closedChannels)
		for _, ch := range e.channels {
			t.add(ch)
		}
		open += len(e.channels)
		e.mu.Unlock()
	}
	return t, open
}

// foldConnLocked keeps a closing connection's channel counts; r.mu and e.mu
// are held.
func (r *Registry) foldConnLocked(e *ConnEntry) {
	for _, ch := range e.channels {
		e.channelClosedLocked(ch)
	}
	r.closedTotals.merge(&e.closedChannels)
	e.closedChannels = ChannelTotals{}
	r.lifecycle.connsClosed.Add(1)
}

// CountPublish counts one publish after routing: routed says it reached a
// queue (or a reply-to consumer).
func (ch *ChannelEntry) CountPublish(confirm, mandatory, routed bool) {
	ch.Published.Add(1)
	if confirm {
		ch.PublishedConfirm.Add(1)
	}
	switch {
	case routed:
		ch.Routed.Add(1)
	case mandatory:
		ch.UnroutableReturned.Add(1)
	default:
		ch.UnroutableDropped.Add(1)
	}
}

// DeliveredCount is the messages delivered or got on the channel: the sum
// of the four kinds, so a delivery costs one counter, not two.
func (ch *ChannelEntry) DeliveredCount() uint64 {
	return ch.ConsumeAutoAck.Load() + ch.ConsumeManualAck.Load() + ch.GetAutoAck.Load() + ch.GetManualAck.Load()
}

// CountDeliver counts one basic.deliver.
func (ch *ChannelEntry) CountDeliver(noAck, redelivered bool) {
	if noAck {
		ch.ConsumeAutoAck.Add(1)
	} else {
		ch.ConsumeManualAck.Add(1)
	}
	if redelivered {
		ch.Redelivered.Add(1)
	}
}

// CountGet counts one basic.get-ok.
func (ch *ChannelEntry) CountGet(noAck, redelivered bool) {
	if noAck {
		ch.GetAutoAck.Add(1)
	} else {
		ch.GetManualAck.Add(1)
	}
	if redelivered {
		ch.Redelivered.Add(1)
	}
}

// QueueSample is one queue's counters at a snapshot.
type QueueSample struct {
	VHost, Name      string
	Ready, Unacked   int64
	Consumers        int
	Published        uint64
	Delivered, Acked uint64

	// Segment figures, with SegmentsKnown set, only from QueueSegments.
	SegmentsKnown bool
	Segments      SegmentStats

	q *Queue
}

// Histogram is a snapshot of a Prometheus-style histogram.
type Histogram struct {
	Bounds     []float64 // upper bounds; Cumulative has one more, for +Inf
	Cumulative []uint64
	Sum        float64
	Count      uint64
}

// SyncStats snapshots the group-commit syncer's histograms: seconds per
// fdatasync and files per round.
func (b *Broker) SyncStats() (latency, batch Histogram) {
	st := b.syncer.SyncStats()
	return histogramOf(&st.Latency), histogramOf(&st.Batch)
}

// SyncCounts are the group-commit syncer's totals: fdatasync calls and
// the appends they covered (records/syncs is messages per fdatasync).
func (b *Broker) SyncCounts() (syncs, records uint64) {
	_, syncs = b.syncer.Stats()
	return syncs, b.syncer.Records()
}

func histogramOf(h *segment.Histogram) Histogram {
	c, sum, n := h.Snapshot()
	return Histogram{Bounds: h.Bounds, Cumulative: c, Sum: sum, Count: n}
}

// QueueSegments fills in the segment figures of samples (from QueueSamples)
// whose queue is not deleted, taking each queue's lock for the moment it
// takes to sum its segment list: for the per-object scrape only.
func (b *Broker) QueueSegments(samples []QueueSample) {
	for i := range samples {
		s := &samples[i]
		q := s.q
		if q == nil {
			continue
		}
		q.mu.Lock()
		if !q.deleted {
			s.Segments, s.SegmentsKnown = storeSegments(q.st)
		}
		q.mu.Unlock()
	}
}

// SegmentStats are a queue's segment files: how many, their disk bytes and
// the bytes mapped for reading.
type SegmentStats = segment.LogStats

// storeSegments sums the segment logs under st. A queue with no store
// opened yet has none; other stores report nothing.
func storeSegments(st store) (segment.LogStats, bool) {
	var t segment.LogStats
	switch st := st.(type) {
	case *classicStore:
		if st.closed {
			return t, false
		}
		return st.log.Stats(), true
	case *priorityStore:
		for _, l := range st.levels {
			if l != nil && !l.closed {
				ls := l.log.Stats()
				t.Files += ls.Files
				t.Bytes += ls.Bytes
				t.MappedBytes += ls.MappedBytes
			}
		}
		return t, !st.closed
	case *unopenedStore:
		return t, true
	}
	return t, false
}

// QueueSamples appends a sample of every queue (of vhost only, if not
// empty) to dst, one vhost read lock at a time: no queue lock is taken.
func (b *Broker) QueueSamples(dst []QueueSample, vhost string) []QueueSample {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, v := range b.vhosts {
		if vhost != "" && v.Name != vhost {
			continue
		}
		v.mu.RLock()
		for _, q := range v.queues {
			dst = append(dst, QueueSample{
				VHost: v.Name, Name: q.Name, Ready: q.Ready(), Unacked: q.Unacked(),
				Consumers: q.ConsumerCount(), Published: q.Published.Load(),
				Delivered: q.Delivered.Load(), Acked: q.Acked.Load(), q: q,
			})
		}
		v.mu.RUnlock()
	}
	return dst
}
