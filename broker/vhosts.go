package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
)

// DefaultVHost is the vhost a fresh data dir starts with.
const DefaultVHost = "/"

// ErrNoSuchVHost is returned by DeleteVHost for a vhost that does not exist.
var ErrNoSuchVHost = errors.New("broker: no such vhost")

// VHosts lists the vhosts' names, sorted.
func (b *Broker) VHosts() []string {
	b.mu.RLock()
	names := make([]string, 0, len(b.vhosts))
	for n := range b.vhosts {
		names = append(names, n)
	}
	b.mu.RUnlock()
	sort.Strings(names)
	return names
}

// AddVHost creates a vhost; creating one that exists does nothing. It is
// in the data dir's definitions.json (vhosts_store.go) when this returns.
// Nobody has permissions in a new vhost until granted (Users.SetPermissions).
func (b *Broker) AddVHost(name string) error {
	if name == "" {
		return errors.New("broker: a vhost needs a name")
	}
	b.vhostsMu.Lock()
	defer b.vhostsMu.Unlock()
	if _, ok := b.VHost(name); ok {
		return nil
	}
	// A directory of that name is what a deletion interrupted by a crash
	// left: the vhost was not in definitions.json, so it starts empty.
	if err := os.RemoveAll(filepath.Join(b.cfg.DataDir, "vhosts", nameDir(name))); err != nil {
		return fmt.Errorf("broker: clear vhost directory: %w", err)
	}
	v, err := b.openVHost(name)
	if err != nil {
		return err
	}
	b.applyDefaultLimits(v) // vhosts_limits.go
	b.mu.Lock()
	b.vhosts[name] = v
	b.mu.Unlock()
	if err := b.saveAccess(); err != nil {
		b.mu.Lock()
		delete(b.vhosts, name)
		b.mu.Unlock()
		v.close()
		_ = os.RemoveAll(v.dir)
		return err
	}
	return nil
}

// openVHost creates a vhost's state and recovers what its directory holds.
func (b *Broker) openVHost(name string) (*VHost, error) {
	v, err := newVHost(b, name)
	if err != nil {
		return nil, err
	}
	if err := v.loadDefinitions(); err != nil {
		v.close()
		return nil, fmt.Errorf("vhost '%s': %w", name, err)
	}
	return v, nil
}

// DeleteVHost deletes a vhost with its exchanges, queues, bindings,
// messages and permissions. Its connections are closed first, as
// RabbitMQ's, with CONNECTION_FORCED. Once the vhost is out of
// definitions.json it is gone; its directory is removed after that, so a
// crash in between leaves only files the next start ignores.
func (b *Broker) DeleteVHost(name string) error {
	b.vhostsMu.Lock()
	defer b.vhostsMu.Unlock()
	b.mu.Lock()
	v, ok := b.vhosts[name]
	if ok {
		delete(b.vhosts, name)
		b.deletingVHostLocked(v) // its counts stay in the totals (counters.go)
	}
	b.mu.Unlock()
	if !ok {
		return ErrNoSuchVHost
	}
	if err := b.saveAccess(); err != nil {
		b.mu.Lock()
		b.vhosts[name] = v
		b.undeletingVHostLocked(v)
		b.mu.Unlock()
		return err
	}
	for _, e := range b.reg.Conns() {
		if e.Info.VHost == name {
			e.Close(fmt.Sprintf("vhost '%s' is deleted", name))
		}
	}
	v.mu.Lock()
	v.gone.Store(true)
	for _, q := range v.queues {
		_, _, err := v.dropQueueLocked(q)
		logErr("delete vhost: drop queue", err, "vhost", name, "queue", q.Name)
	}
	v.mu.Unlock()
	b.foldDeletedVHost(v)
	v.close()
	if err := os.RemoveAll(v.dir); err != nil {
		slog.Error("delete vhost: remove its directory", "vhost", name, "dir", v.dir, "err", err)
	}
	b.cfg.Users.dropVHostPermissions(name)
	return b.saveAccess()
}

// close stops the vhost's definitions journal (its queues are closed or
// deleted by the caller).
func (v *VHost) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.defs != nil {
		v.defs.close()
		v.defs = nil
	}
}

// openVHosts opens the stored vhosts (or the default one of a fresh data
// dir) and from then on stores every change to the user table.
func (b *Broker) openVHosts() error {
	users := b.cfg.Users
	users.persist = nil
	names, params, fresh, err := b.openAccess()
	if err != nil {
		return err
	}
	if fresh && b.cfg.DefinitionsToLoad {
		slog.Info("will not seed default virtual host and user: have definitions to load")
		names = nil
		users.reset()
	}
	for _, name := range names {
		v, err := b.openVHost(name)
		if err != nil {
			return err
		}
		b.vhosts[name] = v
	}
	if err := b.applyLimitParameters(params); err != nil {
		return err
	}
	users.persist = b.saveAccess
	users.deleted = b.closeUserConns
	if fresh {
		for _, v := range b.vhosts {
			b.applyDefaultLimits(v) // the default vhost is new too
		}
	}
	if !fresh {
		// What is in memory is what the file holds: rewriting it would
		// only fail a restart on a full disk, which must come up serving.
		return nil
	}
	return b.saveAccess()
}
