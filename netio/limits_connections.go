package netio

import (
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/warrenmq/warren/frame"
)

// connectionMaxSlack is how many connections past ConnectionMax are still
// taken in to be told why (530 at connection.open); beyond that a flood is
// closed at accept without reading a byte, so it costs no Conn.
const connectionMaxSlack = 64

// connectionCount is how many connections the server holds, handshaking
// ones included.
func (s *Server) connectionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// checkConnectionMax refuses a connection.open that would take the server
// past connection_max (RabbitMQ's key; RabbitMQ stops accepting instead,
// which leaves clients hanging in the backlog: a clear 530 is kinder).
func (s *Server) checkConnectionMax() error {
	if s.cfg.ConnectionMax <= 0 {
		return nil
	}
	if n := s.connectionCount(); n > s.cfg.ConnectionMax {
		slog.Warn("refusing AMQP connection: connection_max reached", "connection_max", s.cfg.ConnectionMax, "connections", n-1)
		return frame.Errorf(frame.NotAllowed, "connection refused: node connection limit (%d) is reached", s.cfg.ConnectionMax)
	}
	return nil
}

// floodRefused reports (and closes) a freshly accepted socket that would
// take the server far past connection_max.
func (s *Server) floodRefused(nc net.Conn) bool {
	if s.cfg.ConnectionMax <= 0 || s.connectionCount() < s.cfg.ConnectionMax+connectionMaxSlack {
		return false
	}
	_ = nc.Close()
	s.floods.note(s.cfg.ConnectionMax)
	return true
}

// floodLog logs connections closed at accept once per fdLogInterval, with
// how many since the last line.
type floodLog struct {
	mu     sync.Mutex
	last   time.Time
	unseen int
}

func (f *floodLog) note(max int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unseen++
	if now := time.Now(); now.Sub(f.last) >= fdLogInterval {
		slog.Warn("connection_max reached: closing new AMQP connections at accept", "connection_max", max, "refused", f.unseen, "interval", fdLogInterval)
		f.unseen, f.last = 0, now
	}
}
