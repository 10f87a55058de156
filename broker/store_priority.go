package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/warrenmq/warren/frame"
	"github.com/warrenmq/warren/segment"
)

var _ store = (*priorityStore)(nil)

// priorityStore is a priority queue's messages (x-max-priority): one
// classic store per priority level, each in a sub-directory of the queue's
// directory, so the backlog stays on disk as in any queue. next takes from
// the highest level that has something ready; a level's own order (its
// requeued heap first, then its log) keeps requeued messages ahead of the
// rest of their level.
//
// Levels open when a message first uses them (or, on restart, when their
// directory exists), so x-max-priority 255 costs nothing for the levels no
// publisher uses. A Ticket names its level, so ack and requeue go back to
// the store that handed it out.
type priorityStore struct {
	dir    string
	opts   storeOptions
	levels []*classicStore // index = priority level, 0..max; nil until used
	open   []uint8         // the levels that are not nil, in opening order
	// top is at or above the highest level holding a ready message: next
	// walks down from it and lowers it, append and requeue raise it.
	top    int
	closed bool
}

// openStoreFor opens the store a queue with settings cfg sits on: a
// priority store when it has x-max-priority, the classic one otherwise.
func openStoreFor(dir string, o storeOptions, cfg queueSettings) (store, error) {
	if cfg.maxPriority > 0 {
		return openPriorityStore(dir, cfg.maxPriority, o)
	}
	return openClassicStore(dir, o)
}

// levelDir names a level's sub-directory.
func levelDir(dir string, level int) string {
	return filepath.Join(dir, "p"+strconv.Itoa(level))
}

// openPriorityStore opens a priority store with levels 0..max in dir,
// recovering every level a durable one left.
func openPriorityStore(dir string, maxLevel int, o storeOptions) (*priorityStore, error) {
	s := &priorityStore{dir: dir, opts: o, levels: make([]*classicStore, maxLevel+1)}
	if parent := o.OnMkdir; parent != nil {
		// The label goes into the queue's directory, which the first
		// level's log creates on its way to its own.
		s.opts.OnMkdir = func(string) error { return parent(dir) }
	}
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	for _, e := range ents {
		n, err := strconv.Atoi(strings.TrimPrefix(e.Name(), "p"))
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "p") || err != nil || n < 0 {
			continue
		}
		if n > maxLevel {
			// x-max-priority is fixed at declare: a level above it is
			// not ours to interpret. Keep it, and say so.
			s.logger().Error("store: priority level above x-max-priority left alone", "level", n, "max", maxLevel)
			continue
		}
		if _, err := s.level(n); err != nil {
			s.close()
			return nil, err
		}
		s.top = max(s.top, n)
	}
	return s, nil
}

// logger is made only when something is logged, as classicStore's.
func (s *priorityStore) logger() *slog.Logger { return slog.Default().With("store", s.dir) }

// level returns level n's store, opening it on first use.
func (s *priorityStore) level(n int) (*classicStore, error) {
	if l := s.levels[n]; l != nil {
		return l, nil
	}
	l, err := openClassicStore(levelDir(s.dir, n), s.opts)
	if err != nil {
		return nil, fmt.Errorf("priority level %d: %w", n, err)
	}
	s.levels[n] = l
	s.open = append(s.open, uint8(n))
	return l, nil
}

// levelOf is the level a message goes to: its priority property, capped at
// the queue's maximum (RabbitMQ treats a higher one as the maximum); a
// message without one goes to 0.
func (s *priorityStore) levelOf(props []byte) int {
	return min(int(frame.PropsPriority(props)), len(s.levels)-1)
}

func (s *priorityStore) append(m Message) (uint64, error) {
	if s.closed {
		return 0, segment.ErrClosed
	}
	n := s.levelOf(m.Props)
	l, err := s.level(n)
	if err != nil {
		return 0, err
	}
	gen, err := l.append(m)
	if err == nil && n > s.top {
		s.top = n
	}
	return gen, err
}

func (s *priorityStore) next() (t Ticket, d Delivery, ok bool) {
	if s.closed {
		return t, d, false
	}
	for ; s.top >= 0; s.top-- {
		l := s.levels[s.top]
		if l == nil || l.readyCount() == 0 {
			continue
		}
		if t, d, ok = l.next(); ok {
			t.level = uint8(s.top)
			return t, d, true
		}
	}
	s.top = 0
	return t, d, false
}

func (s *priorityStore) takeReadFailure() error {
	for _, i := range s.open {
		if err := s.levels[i].takeReadFailure(); err != nil {
			return err
		}
	}
	return nil
}

func (s *priorityStore) ack(t Ticket) error {
	if s.closed {
		return segment.ErrClosed
	}
	return s.levels[t.level].ack(t)
}

func (s *priorityStore) requeue(t Ticket) {
	if s.closed {
		return
	}
	s.levels[t.level].requeue(t)
	s.top = max(s.top, int(t.level))
}

func (s *priorityStore) readyCount() (n int) {
	for _, i := range s.open {
		n += s.levels[i].readyCount()
	}
	return n
}

func (s *priorityStore) purge() (n int) {
	if s.closed {
		return 0
	}
	for _, i := range s.open {
		n += s.levels[i].purge()
	}
	return n
}

func (s *priorityStore) close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, i := range s.open {
		errs = append(errs, s.levels[i].close())
	}
	return errors.Join(errs...)
}

func (s *priorityStore) destroy() error {
	err := s.close()
	return errors.Join(err, os.RemoveAll(s.dir))
}
