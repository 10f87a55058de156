package netio

import "github.com/panjf2000/gnet/v2"

// SetAssemblyLimit caps the bytes all of s's connections may hold for large
// bodies being assembled, so a test can reach the cap with small messages.
func SetAssemblyLimit(s *Server, n int64) { s.assembly.limit.Store(n) }

// DrainWakes is how many times the drain poller woke a connection.
func DrainWakes() uint64 { return drainWakes.Load() }

// OutputHeld is what s's connections hold for their sockets: pending
// output plus what the transport kept of the last flush.
func OutputHeld(s *Server) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for c := range s.conns {
		n += c.out.pending.Load() + c.out.backlog.Load()
	}
	return n
}

// TotalOutputBudget is what busy connections share.
const TotalOutputBudget = totalOutputBudget

// LoopSpread counts s's connections per gnet event loop.
func LoopSpread(s *Server) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	per := map[gnet.EventLoop]int{}
	for c := range s.conns {
		if gt, ok := c.t.(*gnetTransport); ok {
			per[gt.gc.EventLoop()]++
		}
	}
	var n []int
	for _, k := range per {
		n = append(n, k)
	}
	return n
}

// PeerCounters are, for s's connection from the client address peer, the
// wakes sent to its loop and the flushes other connections wrote to its
// socket; ok is false when s has no such connection.
func PeerCounters(s *Server, peer string) (wakes, direct uint64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		gt, isGnet := c.t.(*gnetTransport)
		if !isGnet || c.t.RemoteAddr().String() != peer {
			continue
		}
		c.outMu.Lock()
		direct = c.out.directFlushes
		c.outMu.Unlock()
		return gt.wakes.Load(), direct, true
	}
	return 0, 0, false
}
