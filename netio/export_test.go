package netio

// SetAssemblyLimit caps the bytes all of s's connections may hold for large
// bodies being assembled, so a test can reach the cap with small messages.
func SetAssemblyLimit(s *Server, n int64) { s.assembly.limit.Store(n) }

// DrainWakes is how many times the drain poller woke a connection.
func DrainWakes() uint64 { return drainWakes.Load() }
