package broker

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warrenmq/warren/frame"
)

// Registry lists the broker's open connections with their channels and
// consumers, so that management can show and close them without knowing
// the network layer. The transport registers a connection once it is open
// and removes it when its socket is gone.
//
// Locks: Registry.mu guards the set of connections; each ConnEntry.mu
// guards that connection's channels and their consumers. Neither is held
// while calling out (a ConnEntry's close function runs with no registry
// lock held), and neither is taken on the message path: the counters are
// atomics that the connection updates and readers load.
type Registry struct {
	mu    sync.RWMutex
	conns map[uint64]*ConnEntry

	lifecycle    connLifecycle // counters.go
	closedTotals ChannelTotals // closed connections' channel counts, guarded by mu
}

// ConnInfo describes an open connection. It does not change once
// registered.
type ConnInfo struct {
	ID               uint64 // the connection id (NewConnID)
	User             string
	VHost            string
	Peer             string // remote host:port
	Local            string // our host:port
	ClientProperties frame.Table
	ConnectedAt      time.Time
	// Negotiated in connection.tune-ok.
	FrameMax   uint32
	ChannelMax uint16
	Heartbeat  uint16 // seconds; 0: none
	// AuthMechanism is the SASL mechanism the client logged in with.
	AuthMechanism string
	// TLS is the session of an AMQPS connection; nil for plain TCP.
	TLS *TLSInfo
}

// TLSInfo is a TLS session in RabbitMQ's terms (rabbit_reader's ssl_*
// and peer_cert_* items): "tlsv1.3", "ecdhe_ecdsa" or "any", "aes_256_gcm",
// "aead". The peer certificate fields are empty when the client sent none.
type TLSInfo struct {
	Protocol, KeyExchange, Cipher, Hash string
	PeerCertSubject, PeerCertIssuer     string
	PeerCertValidity                    string
}

// ConnEntry is one registered connection. The transport owns it (it may be
// a field of its own connection state, so registering allocates nothing
// new) and is the only writer of its counters except where noted.
type ConnEntry struct {
	// Written at Add, read-only afterwards.
	Info ConnInfo

	// Counters, loaded by anyone without locks. The connection's own
	// goroutine adds to them, so the atomic adds never contend.
	BytesIn  atomic.Uint64 // bytes of frames consumed
	BytesOut atomic.Uint64 // bytes handed to the socket
	// RecvCount and SendCount are socket reads served and writes made
	// (RabbitMQ's recv_cnt / send_cnt); SendPending is the bytes the
	// socket had not taken at the last write (send_pend).
	RecvCount, SendCount, SendPending atomic.Uint64

	close func(reason string)
	reg   *Registry

	mu       sync.Mutex      // guards channels and closedChannels
	channels []*ChannelEntry // in opening order

	closedChannels ChannelTotals // closed channels' counts (counters.go)
}

// ChannelEntry is one registered channel of a connection.
type ChannelEntry struct {
	Number uint16

	// Counters, loaded by anyone without locks. Published and Acked are
	// added to by the connection's goroutine; the delivery counters (in
	// ChannelCounters; DeliveredCount sums them) by whichever goroutine
	// delivers to the channel's consumers.
	Published atomic.Uint64 // messages published on the channel
	Acked     atomic.Uint64 // deliveries acknowledged by the client

	ChannelCounters // the rest of rabbitmq_global_* (counters.go)
	ChannelState    // prefetch, confirm and tx state (channel_state.go)

	conn      *ConnEntry
	consumers []*Consumer // guarded by conn.mu
}

// Registry is the broker's registry of open connections.
func (b *Broker) Registry() *Registry { return &b.reg }

// Add registers e with info. close is what Close calls: it must ask the
// connection to close with 320 CONNECTION_FORCED and the reason, from any
// goroutine, without blocking.
func (r *Registry) Add(e *ConnEntry, info ConnInfo, close func(reason string)) {
	e.Info, e.close, e.reg = info, close, r
	r.lifecycle.connsOpened.Add(1)
	r.mu.Lock()
	if r.conns == nil {
		r.conns = make(map[uint64]*ConnEntry)
	}
	r.conns[info.ID] = e
	r.mu.Unlock()
}

// Remove unregisters e (with its channels and consumers). Removing an entry
// that was never added does nothing.
func (r *Registry) Remove(e *ConnEntry) {
	r.mu.Lock()
	e.mu.Lock()
	if r.conns[e.Info.ID] == e {
		delete(r.conns, e.Info.ID)
		r.foldConnLocked(e)
	}
	e.channels = nil
	e.mu.Unlock()
	r.mu.Unlock()
}

// Conns returns the registered connections, oldest first. The entries stay
// valid to read after their connection closes.
func (r *Registry) Conns() []*ConnEntry {
	r.mu.RLock()
	out := make([]*ConnEntry, 0, len(r.conns))
	for _, e := range r.conns {
		out = append(out, e)
	}
	r.mu.RUnlock()
	slices.SortFunc(out, func(a, b *ConnEntry) int { return cmp.Compare(a.Info.ID, b.Info.ID) })
	return out
}

// Conn returns a registered connection by id.
func (r *Registry) Conn(id uint64) (*ConnEntry, bool) {
	r.mu.RLock()
	e, ok := r.conns[id]
	r.mu.RUnlock()
	return e, ok
}

// Len is the number of registered connections.
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.conns)
}

// Close asks the connection to close with 320 CONNECTION_FORCED and reason,
// as management's "close connection" does. It returns at once; the entry
// goes away when the socket does.
func (e *ConnEntry) Close(reason string) {
	if e.close != nil {
		e.close(reason)
	}
}

// AddChannel registers ch as channel number n of e.
func (e *ConnEntry) AddChannel(ch *ChannelEntry, n uint16) {
	ch.Number, ch.conn = n, e
	e.mu.Lock()
	e.channels = append(e.channels, ch)
	if e.reg != nil {
		e.reg.lifecycle.chansOpened.Add(1)
	}
	e.mu.Unlock()
}

// RemoveChannel unregisters ch and its consumers; again does nothing.
func (e *ConnEntry) RemoveChannel(ch *ChannelEntry) {
	e.mu.Lock()
	if i := slices.Index(e.channels, ch); i >= 0 {
		e.channels = slices.Delete(e.channels, i, i+1)
		e.channelClosedLocked(ch)
	}
	ch.consumers = nil
	e.mu.Unlock()
}

// Channels returns e's channels in opening order.
func (e *ConnEntry) Channels() []*ChannelEntry {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.channels)
}

// Conn is the connection the channel belongs to (nil before AddChannel).
func (ch *ChannelEntry) Conn() *ConnEntry { return ch.conn }

// AddConsumer lists c (already accepted by its queue) under ch.
func (ch *ChannelEntry) AddConsumer(c *Consumer) {
	if ch.conn == nil {
		return
	}
	ch.conn.mu.Lock()
	ch.consumers = append(ch.consumers, c)
	ch.conn.mu.Unlock()
}

// RemoveConsumer takes c off ch's list; again does nothing.
func (ch *ChannelEntry) RemoveConsumer(c *Consumer) {
	if ch.conn == nil {
		return
	}
	ch.conn.mu.Lock()
	if i := slices.Index(ch.consumers, c); i >= 0 {
		ch.consumers = slices.Delete(ch.consumers, i, i+1)
	}
	ch.conn.mu.Unlock()
}

// Consumers returns ch's consumers in subscription order. A Consumer's
// Tag, NoAck, Exclusive, Args and Queue do not change once listed.
func (ch *ChannelEntry) Consumers() []*Consumer {
	if ch.conn == nil {
		return nil
	}
	ch.conn.mu.Lock()
	defer ch.conn.mu.Unlock()
	return slices.Clone(ch.consumers)
}
