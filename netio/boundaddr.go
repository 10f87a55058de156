package netio

import (
	"errors"
	"net"
	"syscall"

	"github.com/panjf2000/gnet/v2"
)

// Addr returns the address the listener is bound to: with port 0 in
// Config.Addr, the port the kernel chose. Tests and scripts start a server
// on port 0 and read the port back here, so no other process can take the
// port between choosing and binding it. Valid once Ready is closed.
func (s *Server) Addr() (net.Addr, error) {
	if s.ln == nil {
		return nil, errors.New("listener not open")
	}
	return s.ln.Addr(), nil
}

// connLocalAddr is the accepted connection's own end, from the socket.
// gnet reports the listener's configured address instead, which says port
// 0 when the kernel picked the port (and 0.0.0.0 for every interface).
func connLocalAddr(gc gnet.Conn) net.Addr {
	sa, err := syscall.Getsockname(gc.Fd())
	if err != nil {
		return gc.LocalAddr()
	}
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	case *syscall.SockaddrInet6:
		zone := ""
		if a.ZoneId != 0 {
			if ifc, err := net.InterfaceByIndex(int(a.ZoneId)); err == nil {
				zone = ifc.Name
			}
		}
		return &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port, Zone: zone}
	}
	return gc.LocalAddr()
}
