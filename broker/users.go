package broker

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// Principal is who a connection acts as: an authenticated user, the user's
// tags, and the vhost the connection opened. Every vhost operation that a
// permission check guards (declare, delete, bind, unbind, purge, consume,
// get, publish) takes the acting principal and checks it against the
// user's permissions in that vhost (permissions.go). A nil principal is
// the broker itself (restoring definitions, importing them): never refused.
//
// A principal belongs to one connection, which sets VHost once, at
// connection.open; the broker only reads it.
type Principal struct {
	User  string
	Tags  []string // shared with the user table: read only
	VHost string   // "" until connection.open
}

// HasTag reports whether the user carries tag (e.g. "administrator").
func (p *Principal) HasTag(tag string) bool { return slices.Contains(p.Tags, tag) }

// The user tags RabbitMQ gives a meaning to. Others are kept and exported
// as they are, as RabbitMQ does.
const (
	TagAdministrator = "administrator"
	TagMonitoring    = "monitoring"
	TagPolicymaker   = "policymaker"
	TagManagement    = "management"
	TagImpersonator  = "impersonator"
)

// User is a user to add. Password is hashed on Add and never kept; an
// empty Password makes a user who cannot log in with a password (one for
// certificate logins, EXTERNAL), as RabbitMQ's passwordless users.
type User struct {
	Name     string
	Password string
	Tags     []string
	// LoopbackOnly users may log in only over a loopback interface, as
	// RabbitMQ's loopback_users (guest, by default). Add sets or clears the
	// user's place in that list; SetLoopbackUsers replaces the list.
	LoopbackOnly bool
}

// UserInfo is a user as RabbitMQ's definitions export shows one.
type UserInfo struct {
	Name             string
	PasswordHash     string // base64; "" for a user without password
	HashingAlgorithm string // rabbit_password_hashing_sha256, _sha512 or _md5
	Tags             []string
}

// Authentication failures. Both reach the client as the same 403
// ACCESS_REFUSED, as in RabbitMQ; only the log tells them apart.
var (
	// ErrBadCredentials is returned for an unknown user, a wrong password,
	// or a password login by a user without password.
	ErrBadCredentials = errors.New("broker: invalid credentials")
	// ErrLoopbackOnly is returned for a LoopbackOnly user connecting from
	// elsewhere.
	ErrLoopbackOnly = errors.New("broker: user can only connect via localhost")
	// ErrNoSuchUser is returned by changes naming a user that does not exist.
	ErrNoSuchUser = errors.New("broker: no such user")
)

// Users is the access-control table: users, their permissions per vhost
// (permissions.go) and the loopback-only list. Safe for concurrent use.
// Once a broker has opened with it, every change is written to the data
// dir's definitions.json before the call returns (vhosts_store.go).
type Users struct {
	mu       sync.RWMutex
	users    map[string]*userEntry
	loopback map[string]bool
	perms    map[permKey]*compiledPerm         // (user, vhost)
	topics   map[permKey]map[string]*topicPerm // (user, vhost) → exchange
	// gen changes with every change of users or permissions, so a channel
	// may keep a decision (PublishCache) while it holds.
	gen atomic.Uint64
	// limits is the users' max-connections and max-channels (resource_limits.go).
	limits map[string]Limits
	// persist writes the table; set by the broker that opened with it.
	persist func() error
	// deleted closes a deleted user's connections (users_revoke.go); set
	// by the broker that opened with the table.
	deleted func(name string)
}

type userEntry struct {
	hash []byte // salt+digest; nil: no password
	algo hashAlgo
	tags []string
}

// NewUsers returns an empty user table: nobody can log in. guest is in
// the loopback-only list, as in RabbitMQ's default loopback_users.
func NewUsers() *Users {
	return &Users{
		users:    make(map[string]*userEntry),
		loopback: map[string]bool{"guest": true},
		perms:    make(map[permKey]*compiledPerm),
		topics:   make(map[permKey]map[string]*topicPerm),
	}
}

// DefaultUsers is RabbitMQ's out-of-the-box table: guest/guest, tagged
// administrator, allowed from loopback only, with every permission on the
// default vhost.
func DefaultUsers() *Users {
	u := NewUsers()
	_ = u.Add(User{Name: "guest", Password: "guest", Tags: []string{TagAdministrator}, LoopbackOnly: true})
	_ = u.SetPermissions(Permission{User: "guest", VHost: "/", Configure: ".*", Write: ".*", Read: ".*"})
	return u
}

// changed bumps the generation and writes the table. u.mu must not be held.
func (u *Users) changed() error {
	u.gen.Add(1)
	if u.persist == nil {
		return nil
	}
	return u.persist()
}

// Add creates a user or replaces the one of that name (its permissions
// stay).
func (u *Users) Add(user User) error {
	e := &userEntry{algo: hashSHA256, tags: slices.Clone(user.Tags)}
	if user.Password != "" {
		e.hash = hashSHA256.hash(newSalt(), user.Password)
	}
	u.mu.Lock()
	u.users[user.Name] = e
	if user.LoopbackOnly {
		u.loopback[user.Name] = true
	} else {
		delete(u.loopback, user.Name)
	}
	u.mu.Unlock()
	return u.changed()
}

// AddHashed creates or replaces a user from a RabbitMQ definitions entry:
// passwordHash is base64 of salt+digest ("" for no password), algorithm one
// of rabbit_password_hashing_sha256 (the default when ""), _sha512, _md5.
func (u *Users) AddHashed(name, passwordHash, algorithm string, tags []string) error {
	if err := u.addHashed(name, passwordHash, algorithm, tags); err != nil {
		return err
	}
	return u.changed()
}

func (u *Users) addHashed(name, passwordHash, algorithm string, tags []string) error {
	algo, ok := parseHashAlgo(algorithm)
	if !ok {
		return fmt.Errorf("user '%s': unknown hashing algorithm '%s'", name, algorithm)
	}
	hash, err := decodePasswordHash(algo, passwordHash)
	if err != nil {
		return fmt.Errorf("user '%s': %w", name, err)
	}
	u.mu.Lock()
	u.users[name] = &userEntry{hash: hash, algo: algo, tags: slices.Clone(tags)}
	u.mu.Unlock()
	return nil
}

// Delete removes a user and every permission it had. Once the table is
// stored, the user's open connections are closed, as RabbitMQ's
// (users_revoke.go).
func (u *Users) Delete(name string) error {
	u.mu.Lock()
	if _, ok := u.users[name]; !ok {
		u.mu.Unlock()
		return ErrNoSuchUser
	}
	delete(u.users, name)
	delete(u.limits, name)
	for k := range u.perms {
		if k.user == name {
			delete(u.perms, k)
		}
	}
	for k := range u.topics {
		if k.user == name {
			delete(u.topics, k)
		}
	}
	u.mu.Unlock()
	if err := u.changed(); err != nil {
		return err
	}
	if u.deleted != nil {
		u.deleted(name)
	}
	return nil
}

// SetTags replaces a user's tags; connections already open keep the old.
func (u *Users) SetTags(name string, tags []string) error {
	return u.update(name, func(e *userEntry) { e.tags = slices.Clone(tags) })
}

// SetPassword changes a user's password; "" leaves the user without one.
// New hashes are SHA-256, whatever the old one was.
func (u *Users) SetPassword(name, password string) error {
	return u.update(name, func(e *userEntry) {
		e.algo, e.hash = hashSHA256, nil
		if password != "" {
			e.hash = hashSHA256.hash(newSalt(), password)
		}
	})
}

// update replaces a user's entry with a changed copy (principals share
// the old one's tags).
func (u *Users) update(name string, change func(*userEntry)) error {
	u.mu.Lock()
	e, ok := u.users[name]
	if !ok {
		u.mu.Unlock()
		return ErrNoSuchUser
	}
	ne := *e
	change(&ne)
	u.users[name] = &ne
	u.mu.Unlock()
	return u.changed()
}

// SetLoopbackUsers replaces the loopback-only list (RabbitMQ's
// loopback_users; empty lets everyone log in from anywhere). It is
// configuration: not stored with the users.
func (u *Users) SetLoopbackUsers(names []string) {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	u.mu.Lock()
	u.loopback = m
	u.mu.Unlock()
}

// Get returns one user.
func (u *Users) Get(name string) (UserInfo, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	e, ok := u.users[name]
	if !ok {
		return UserInfo{}, false
	}
	return e.info(name), true
}

// List returns every user, by name.
func (u *Users) List() []UserInfo {
	u.mu.RLock()
	out := make([]UserInfo, 0, len(u.users))
	for name, e := range u.users {
		out = append(out, e.info(name))
	}
	u.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (e *userEntry) info(name string) UserInfo {
	return UserInfo{Name: name, PasswordHash: encodePasswordHash(e.hash), HashingAlgorithm: e.algo.name(), Tags: slices.Clone(e.tags)}
}

// Authenticate checks a password login; loopback says whether the peer
// connected over a loopback interface. The principal it returns has no
// vhost yet.
func (u *Users) Authenticate(name, password string, loopback bool) (*Principal, error) {
	u.mu.RLock()
	e, ok := u.users[name]
	loopbackOnly := u.loopback[name]
	u.mu.RUnlock()
	if !ok || !e.matches(password) {
		return nil, ErrBadCredentials
	}
	if loopbackOnly && !loopback {
		return nil, ErrLoopbackOnly
	}
	return &Principal{User: name, Tags: e.tags}, nil
}

func (e *userEntry) matches(password string) bool {
	if e.hash == nil {
		return false // no password: certificate logins only
	}
	return e.algo.matches(e.hash, password)
}
