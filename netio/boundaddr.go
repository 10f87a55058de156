package netio

import (
	"fmt"
	"net"
	"os"
)

// Addr returns the address the listener is bound to: with port 0 in
// Config.Addr, the port the kernel chose. Tests and scripts start a server
// on port 0 and read the port back here, so no other process can take the
// port between choosing and binding it. Valid once Ready is closed.
func (s *Server) Addr() (net.Addr, error) {
	fd, err := s.eng.Dup()
	if err != nil {
		return nil, fmt.Errorf("listener fd: %w", err)
	}
	f := os.NewFile(uintptr(fd), "amqp-listener")
	defer f.Close()
	l, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("listener from fd: %w", err)
	}
	defer l.Close()
	return l.Addr(), nil
}
