package netio

import "net"

// ServeListener accepts plain AMQP connections on one more listener (a
// second listeners.tcp.* of RabbitMQ's config) until it is closed, by Stop
// or by the caller: the same accept loop as Run's own listener, with its
// fd-shortage handling and connection_max, into the same gnet loops. Call
// it once the Server is Ready.
func (s *Server) ServeListener(ln net.Listener) error {
	s.mu.Lock()
	s.tlsListeners = append(s.tlsListeners, ln) // closed by Stop with the TLS ones
	s.mu.Unlock()
	if s.stopping.Load() {
		_ = ln.Close()
	}
	s.acceptLoop(ln)
	return nil
}
