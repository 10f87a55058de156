package netio

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// Warren accepts connections itself and hands each to a gnet loop with
// Engine.Register, instead of giving gnet the listener. gnet v2.10 treats
// every accept(2) error other than EAGAIN, EINTR, ECONNRESET and
// ECONNABORTED as fatal (acceptor_unix.go returns ErrAcceptSocket): at the
// fd limit (EMFILE, ENFILE) its main reactor exits and takes the whole
// engine, and every connection, down with it. gnet has no option to change
// that, so the listener is ours: here an fd shortage refuses the one new
// connection, is logged at most once per fdLogInterval with a count, and
// accepting goes on as soon as fds are free again.

// fdLogInterval bounds how often a run of refused connections is logged.
const fdLogInterval = 10 * time.Second

// acceptBackoffMax caps the pause after an accept error that is not an fd
// shortage (the kind Go's net/http also retries).
const acceptBackoffMax = time.Second

// acceptLoop accepts until the listener is closed.
func (s *Server) acceptLoop(ln net.Listener) {
	defer s.b.AddListener("amqp", ln.Addr())() // listed in management's overview
	reserve := openReserve()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err == nil {
			backoff = 0
			if !s.floodRefused(nc) {
				s.register(nc)
			}
			continue
		}
		if errors.Is(err, net.ErrClosed) {
			if reserve != nil {
				_ = reserve.Close()
			}
			return
		}
		if isFDShortage(err) {
			// The classic spare-fd trick: give the reserve up to accept the
			// waiting connection and close it at once, so the client sees a
			// refusal instead of hanging in the backlog, then take the reserve
			// back. Without a reserve, pause briefly and retry.
			if reserve != nil {
				_ = reserve.Close()
				refused := 0
				if nc, err := ln.Accept(); err == nil {
					_ = nc.Close()
					refused = 1
				}
				s.fdRefused.note(err, refused)
				reserve = openReserve()
				continue
			}
			s.fdRefused.note(err, 0)
			time.Sleep(10 * time.Millisecond)
			reserve = openReserve()
			continue
		}
		backoff = min(max(2*backoff, 5*time.Millisecond), acceptBackoffMax)
		slog.Warn("amqp accept failed; retrying", "err", err, "in", backoff)
		time.Sleep(backoff)
	}
}

// registerWait bounds how long the accept loop waits for a loop to take
// the connection it was given before accepting the next.
const registerWait = 5 * time.Millisecond

// register gives nc to a gnet loop. gnet dups the fd and closes nc, so a
// connection briefly costs two fds; a dup that fails for lack of fds
// refuses the connection like a failed accept.
//
// gnet's least-connections pick counts a loop's connections only once the
// loop has taken them in, so a burst of connects registered without waiting
// lands mostly on one loop: 27 consumers on one and 8 on the other was
// seen, and publishers on the lighter loop then got up to 11x the others'
// share. Waiting (briefly, so a busy loop cannot stall accepting) keeps
// the count true for the next pick.
func (s *Server) register(nc net.Conn) {
	res, err := s.eng.Register(gnet.NewNetConnContext(context.Background(), nc))
	if err != nil {
		_ = nc.Close()
		if isFDShortage(err) {
			s.fdRefused.note(err, 1)
		}
		return
	}
	settle := func(r gnet.RegisteredResult) {
		if r.Err != nil && isFDShortage(r.Err) {
			s.fdRefused.note(r.Err, 1)
		}
	}
	t := time.NewTimer(registerWait)
	defer t.Stop()
	select {
	case r := <-res:
		settle(r)
	case <-t.C:
		go func() { settle(<-res) }()
	}
}

func openReserve() *os.File {
	f, err := os.Open(os.DevNull)
	if err != nil {
		return nil
	}
	return f
}

func isFDShortage(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// refusals logs a run of connections refused for lack of fds once per
// interval, with how many since the last line.
type refusals struct {
	mu     sync.Mutex
	last   time.Time
	unseen int
}

// note records n more refused connections (0 when accept failed and no
// connection could be taken off the backlog to refuse).
func (r *refusals) note(err error, n int) {
	r.mu.Lock()
	r.unseen += n
	now := time.Now()
	if now.Sub(r.last) < fdLogInterval {
		r.mu.Unlock()
		return
	}
	n = r.unseen
	r.unseen = 0
	r.last = now
	r.mu.Unlock()
	slog.Warn("out of file descriptors: refusing new AMQP connections (raise the fd limit: ulimit -n / LimitNOFILE)",
		"refused", n, "err", err, "interval", fdLogInterval)
}
