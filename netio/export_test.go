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

// LoopWakes is how many wakes were sent to gnet loops.
func LoopWakes() uint64 { return loopWakes.Load() }

// DirectFlushes is how many flushes a connection wrote to another's socket.
func DirectFlushes() uint64 { return directFlushes.Load() }
