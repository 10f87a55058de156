package broker

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// unopenedStore is the store of a queue that has never held a message: no
// directory on disk, so nothing to load. It opens the real (classic) store
// on the first append (classic, or priority for x-max-priority) and puts it in the queue's place, so from then on
// the queue calls the classic store directly and pays nothing for having
// started here.
//
// Why: a classic store is a segment log plus an index, ~650 bytes with
// their paths and the label hook, and most of 100,000 idle queues (a queue
// per user or device) hold nothing. Deferring it keeps such a queue at the
// Queue struct and its name.
type unopenedStore struct {
	q *Queue
}

var _ store = (*unopenedStore)(nil)

// openQueueStore returns the store for q: unopened when q's directory does
// not exist, else the classic store recovering what the directory holds.
func (v *VHost) openQueueStore(q *Queue) (store, error) {
	if q.cfg.queueType == "stream" {
		return v.openStreamStore(q) // stream_store.go
	}
	dir := v.b.queueDir(v, q.Name, q.Durable)
	if !v.hasDir(dir, q.Durable) {
		return &unopenedStore{q: q}, nil
	}
	return openStoreFor(dir, v.storeOptions(q), q.cfg)
}

// hasDir says whether a queue's directory exists. While restoring it asks
// the listing restore read once (restoreDirs), not the file system:
// 100,000 stat calls were a tenth of a restart.
func (v *VHost) hasDir(dir string, durable bool) bool {
	if v.restoreDirs != nil && durable {
		_, ok := v.restoreDirs[filepath.Base(dir)]
		return ok
	}
	_, err := os.Lstat(dir)
	return !errors.Is(err, fs.ErrNotExist)
}

// listQueueDirs returns the names of the durable queue directories of v,
// or nil if they cannot be listed.
func (v *VHost) listQueueDirs() map[string]struct{} {
	ents, err := os.ReadDir(filepath.Join(v.dir, "queues"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	names := make(map[string]struct{}, len(ents))
	for _, e := range ents {
		names[e.Name()] = struct{}{}
	}
	return names
}

func (v *VHost) storeOptions(q *Queue) storeOptions {
	so := storeOptions{Durable: q.Durable, SegmentSize: v.b.cfg.SegmentSize, Syncer: v.b.syncer, Owner: &q.mu}
	if q.Durable {
		vhost, name := v.Name, q.Name
		so.OnMkdir = func(dir string) error { return writeQueueLabel(dir, vhost, name) }
	}
	return so
}

// append opens the classic store, makes it the queue's, and appends there.
// q.mu is held, as for every store call. If the store cannot be opened the
// queue stays unopened and the next append tries again.
func (s *unopenedStore) append(m Message) (uint64, error) {
	q := s.q
	st, err := openStoreFor(q.vhost.b.queueDir(q.vhost, q.Name, q.Durable), q.vhost.storeOptions(q), q.cfg)
	if err != nil {
		return 0, err
	}
	q.st = st
	return st.append(m)
}

// An unopened store holds no message, so it never handed out a Ticket.

func (s *unopenedStore) next() (Ticket, Delivery, bool) { return Ticket{}, Delivery{}, false }
func (s *unopenedStore) ack(Ticket) error               { return nil }
func (s *unopenedStore) requeue(Ticket)                 {}
func (s *unopenedStore) readyCount() int                { return 0 }
func (s *unopenedStore) purge() int                     { return 0 }
func (s *unopenedStore) close() error                   { return nil }
func (s *unopenedStore) destroy() error                 { return nil }
