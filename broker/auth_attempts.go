package broker

import (
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Authentication attempts, RabbitMQ's auth_attempt_metrics: per protocol,
// how many logins were tried, succeeded and failed, counted by whichever
// listener checked the credentials (AMQP, stream, the management API's
// basic auth). The per-protocol counts are atomics, so a login costs three
// uncontended adds at most. Counts by source (remote address and user
// name, auth_attempt_detailed_metrics) are kept only when tracking is on,
// as in RabbitMQ (off by default: a scan from many addresses would grow
// the table), and then in a bounded map under a mutex.

// The protocols RabbitMQ names in its auth attempt metrics.
const (
	AuthAMQP   = "amqp091"
	AuthHTTP   = "http"
	AuthStream = "stream"
)

var authProtocols = [...]string{AuthAMQP, AuthHTTP, AuthStream}

// maxAuthSources bounds the per-source table; sources past it are not
// tracked until the table is reset.
const maxAuthSources = 10000

// AuthAttempts counts authentication attempts.
type AuthAttempts struct {
	counts [len(authProtocols)]authCounts
	// base is the counts at the last Reset: the management API shows the
	// counts since then, as RabbitMQ's reset does, while the Prometheus
	// counters keep counting.
	baseMu sync.Mutex
	base   [len(authProtocols)]AuthCount

	track   atomic.Bool
	mu      sync.Mutex
	sources map[AuthSource]*authCounts
}

type authCounts struct{ total, ok, failed atomic.Uint64 }

// AuthSource is where an attempt came from.
type AuthSource struct {
	Protocol      string
	RemoteAddress string // host, without the port
	Username      string
}

// AuthCount is one row of counts: a protocol's, or a source's.
type AuthCount struct {
	AuthSource
	Total, Succeeded, Failed uint64
}

// AuthAttempts is the broker's count of authentication attempts.
func (b *Broker) AuthAttempts() *AuthAttempts { return &b.auth }

// Record counts one attempt of protocol (AuthAMQP, ...) from remote by
// user.
func (a *AuthAttempts) Record(protocol string, remote net.Addr, user string, ok bool) {
	i := slices.Index(authProtocols[:], protocol)
	if i < 0 {
		return
	}
	a.counts[i].add(ok)
	if !a.track.Load() {
		return
	}
	src := AuthSource{Protocol: protocol, RemoteAddress: remoteHost(remote), Username: user}
	a.mu.Lock()
	c := a.sources[src]
	if c == nil && len(a.sources) < maxAuthSources {
		if a.sources == nil {
			a.sources = map[AuthSource]*authCounts{}
		}
		c = new(authCounts)
		a.sources[src] = c
	}
	a.mu.Unlock()
	if c != nil {
		c.add(ok)
	}
}

func (c *authCounts) add(ok bool) {
	c.total.Add(1)
	if ok {
		c.ok.Add(1)
	} else {
		c.failed.Add(1)
	}
}

func (c *authCounts) row(s AuthSource) AuthCount {
	return AuthCount{AuthSource: s, Total: c.total.Load(), Succeeded: c.ok.Load(), Failed: c.failed.Load()}
}

func remoteHost(a net.Addr) string {
	if a == nil {
		return ""
	}
	s := a.String()
	if h, _, err := net.SplitHostPort(s); err == nil {
		return h
	}
	return s
}

// ByProtocol is the counts of every protocol (zero rows included, as
// RabbitMQ lists the protocols it has listeners for).
func (a *AuthAttempts) ByProtocol() []AuthCount {
	out := make([]AuthCount, len(authProtocols))
	for i, p := range authProtocols {
		out[i] = a.counts[i].row(AuthSource{Protocol: p})
	}
	return out
}

// BySource is the per-source counts, ordered by protocol, address, user.
func (a *AuthAttempts) BySource() []AuthCount {
	a.mu.Lock()
	out := make([]AuthCount, 0, len(a.sources))
	for s, c := range a.sources {
		out = append(out, c.row(s))
	}
	a.mu.Unlock()
	slices.SortFunc(out, func(x, y AuthCount) int {
		return strings.Compare(x.Protocol+"\x00"+x.RemoteAddress+"\x00"+x.Username, y.Protocol+"\x00"+y.RemoteAddress+"\x00"+y.Username)
	})
	return out
}

// SetTrackSource turns counting by source on or off (RabbitMQ's
// track_auth_attempt_source). Turning it off keeps what was counted.
func (a *AuthAttempts) SetTrackSource(on bool) { a.track.Store(on) }

// TrackingSource reports whether attempts are counted by source.
func (a *AuthAttempts) TrackingSource() bool { return a.track.Load() }

// SinceReset is ByProtocol less the counts at the last Reset.
func (a *AuthAttempts) SinceReset() []AuthCount {
	out := a.ByProtocol()
	a.baseMu.Lock()
	for i := range out {
		b := a.base[i]
		out[i].Total, out[i].Succeeded, out[i].Failed = out[i].Total-b.Total, out[i].Succeeded-b.Succeeded, out[i].Failed-b.Failed
	}
	a.baseMu.Unlock()
	return out
}

// Reset is RabbitMQ's reset_auth_attempt_metrics (DELETE of
// /api/auth/attempts/{node}[/source]): SinceReset starts again from 0 and
// the per-source table empties. ByProtocol, which Prometheus reads, is
// not reset: its counters never go down.
func (a *AuthAttempts) Reset() {
	a.baseMu.Lock()
	a.base = [len(authProtocols)]AuthCount(a.ByProtocol())
	a.baseMu.Unlock()
	a.mu.Lock()
	a.sources = nil
	a.mu.Unlock()
}
