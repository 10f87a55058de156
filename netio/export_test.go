package netio

// SetAssemblyLimit caps the bytes all of s's connections may hold for large
// bodies being assembled, so a test can reach the cap with small messages.
func SetAssemblyLimit(s *Server, n int64) { s.assembly.limit.Store(n) }
