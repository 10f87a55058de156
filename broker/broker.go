package broker

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/warrenmq/warren/segment"
)

// Config holds the broker's settings.
type Config struct {
	DataDir     string
	SegmentSize int64 // bytes per segment file; 0 means the default
	// SyncPolicy is what a persistent publish's confirm waits for: an
	// fdatasync (segment.SyncData, the default) or the write alone
	// (segment.SyncWrite, warren.fsync = write).
	SyncPolicy     segment.SyncPolicy
	MaxMessageSize int64  // largest body accepted; 0 means 128 MiB
	Users          *Users // who may log in; nil means DefaultUsers
	// DefaultVHost is the vhost a fresh data dir starts with ("" is "/").
	// Users and DefaultVHost seed a fresh data dir only: once it holds a
	// definitions.json (vhosts_store.go), that is what opens, as in RabbitMQ.
	DefaultVHost string
	// DefinitionsToLoad is RabbitMQ's has_configured_definitions_to_load:
	// a node with definitions to import at boot seeds neither the default
	// vhost nor the users of Users on a fresh data dir (its users stay
	// only as the loopback list), since the file says what exists
	// (rabbit:maybe_insert_default_data).
	DefinitionsToLoad bool
	// Alarms are the memory and disk thresholds (alarms.go).
	Alarms AlarmConfig
	// DefaultLimits are the limits a new vhost starts with, by name
	// pattern (vhosts_limits.go).
	DefaultLimits []DefaultLimits
}

// DefaultMaxMessageSize is RabbitMQ 3.x's default max_message_size.
const DefaultMaxMessageSize = 128 << 20

// Broker is the root of the broker state.
type Broker struct {
	cfg       Config
	syncer    *segment.Syncer
	watermark Watermark

	mu      sync.RWMutex
	vhosts  map[string]*VHost
	nextQID atomic.Uint64
	connID  atomic.Uint64
	reg     Registry
	timerMu sync.Mutex
	timer   *Timer   // started by the first Timer call
	lock    *os.File // the data dir's flock, released by Close
	// vhostsMu serialises vhost creation and deletion; accessMu the writes
	// of definitions.json (vhosts_store.go).
	vhostsMu sync.Mutex
	accessMu sync.Mutex

	queueCounts queueLifecycle // queue lifecycle totals (counters.go)
	// Deleted vhosts' queue counts (counters.go), guarded by mu.
	goneTotals     QueueTotals
	deletingVHosts []*VHost
	alarms         *Alarms
	admit          admissions   // per-vhost and per-user limits (resource_limits_admit.go)
	gparams        globalParams // global runtime parameters (global_params.go)
	auth           AuthAttempts // authentication attempts (auth_attempts.go)
	listeners      listenerSet  // open listeners, for management (listeners.go)
}

// Open creates the broker, recovering durable definitions and queues from
// cfg.DataDir.
func Open(cfg Config) (*Broker, error) {
	if cfg.MaxMessageSize == 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.Users == nil {
		cfg.Users = DefaultUsers()
	}
	if err := ValidateDefaultLimits(cfg.DefaultLimits); err != nil {
		return nil, err
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "data"
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	// Non-durable queues do not survive a restart; their files go now.
	if err := os.RemoveAll(filepath.Join(cfg.DataDir, "transient")); err != nil {
		lock.Close()
		return nil, fmt.Errorf("clear transient queues: %w", err)
	}
	b := &Broker{cfg: cfg, syncer: segment.NewSyncerPolicy(cfg.SyncPolicy), vhosts: make(map[string]*VHost), lock: lock}
	b.watermark = syncWatermark{b.syncer}
	b.alarms = newAlarms(cfg.Alarms, cfg.DataDir)
	if err := b.openVHosts(); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Config returns the broker's settings.
func (b *Broker) Config() Config { return b.cfg }

// Users is the user table logins are checked against.
func (b *Broker) Users() *Users { return b.cfg.Users }

// Watermark is what publisher confirms wait on (PublishResult.CommitGen).
func (b *Broker) Watermark() Watermark { return b.watermark }

// Alarms is the memory and disk alarms' state (alarms.go).
func (b *Broker) Alarms() *Alarms { return b.alarms }

// VHost returns a vhost by name.
func (b *Broker) VHost(name string) (*VHost, bool) {
	b.mu.RLock()
	v, ok := b.vhosts[name]
	b.mu.RUnlock()
	return v, ok
}

// NewConnID returns a process-unique connection id (exclusive queue owner).
func (b *Broker) NewConnID() uint64 { return b.connID.Add(1) }

// Close flushes and closes every queue.
func (b *Broker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var first error
	for _, v := range b.vhosts {
		v.mu.Lock()
		v.closeExchangeExtsLocked()
		for _, q := range v.queues {
			if err := q.close(); err != nil && first == nil {
				first = err
			}
		}
		v.closeDefinitionsLocked()
		v.mu.Unlock()
	}
	b.syncer.Close()
	b.closeTimer()
	if b.alarms != nil {
		b.alarms.close()
	}
	if b.lock != nil {
		b.lock.Close()
		b.lock = nil
	}
	return first
}

// queueDir is where a queue's segments live. Names are hashed because queue
// names may hold any byte, including "/" and "..".
func (b *Broker) queueDir(v *VHost, queue string, durable bool) string {
	if durable {
		return filepath.Join(v.dir, "queues", nameDir(queue))
	}
	id := b.nextQID.Add(1)
	return filepath.Join(b.cfg.DataDir, "transient", fmt.Sprintf("%s-%d", nameDir(queue), id))
}

func nameDir(name string) string {
	h := sha256.Sum256([]byte(name))
	return hex.EncodeToString(h[:12])
}

func logErr(msg string, err error, args ...any) {
	if err != nil {
		slog.Error(msg, append(args, "err", err)...)
	}
}
