package broker

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"slices"
	"sync"
)

// Principal is who a connection acts as: an authenticated user, the user's
// tags, and the vhost the connection opened. Every vhost operation that a
// permission check will guard (declare, delete, bind, unbind, purge, consume,
// get, publish) takes the acting principal; today every authenticated user
// may do everything in every vhost, as RabbitMQ's default guest may.
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

// User is one entry of the user table.
type User struct {
	Name     string
	Password string
	Tags     []string
	// LoopbackOnly users may log in only over a loopback interface, as
	// RabbitMQ's loopback_users (guest, by default).
	LoopbackOnly bool
}

// Authentication failures. Both reach the client as the same 403
// ACCESS_REFUSED, as in RabbitMQ; only the log tells them apart.
var (
	// ErrBadCredentials is returned for an unknown user or a wrong password.
	ErrBadCredentials = errors.New("broker: invalid credentials")
	// ErrLoopbackOnly is returned for a LoopbackOnly user connecting from
	// elsewhere.
	ErrLoopbackOnly = errors.New("broker: user can only connect via localhost")
)

// Users is the user table. Safe for concurrent use.
type Users struct {
	mu    sync.RWMutex
	users map[string]*userEntry
}

// userEntry keeps a salted SHA-256 of the password (RabbitMQ's
// rabbit_password_hashing_sha256 layout: 4 salt bytes, then the hash of
// salt+password), never the password itself.
type userEntry struct {
	hash         []byte
	tags         []string
	loopbackOnly bool
}

// NewUsers returns an empty user table: nobody can log in.
func NewUsers() *Users { return &Users{users: make(map[string]*userEntry)} }

// DefaultUsers is RabbitMQ's out-of-the-box table: guest/guest, tagged
// administrator, allowed from loopback only.
func DefaultUsers() *Users {
	u := NewUsers()
	u.Add(User{Name: "guest", Password: "guest", Tags: []string{"administrator"}, LoopbackOnly: true})
	return u
}

// Add creates a user or replaces the one of that name.
func (u *Users) Add(user User) {
	var salt [4]byte
	_, _ = rand.Read(salt[:])
	e := &userEntry{hash: hashPassword(salt, user.Password), tags: slices.Clone(user.Tags), loopbackOnly: user.LoopbackOnly}
	u.mu.Lock()
	u.users[user.Name] = e
	u.mu.Unlock()
}

// Authenticate checks a login; loopback says whether the peer connected over
// a loopback interface. The principal it returns has no vhost yet.
func (u *Users) Authenticate(name, password string, loopback bool) (*Principal, error) {
	u.mu.RLock()
	e, ok := u.users[name]
	u.mu.RUnlock()
	if !ok || !e.matches(password) {
		return nil, ErrBadCredentials
	}
	if e.loopbackOnly && !loopback {
		return nil, ErrLoopbackOnly
	}
	return &Principal{User: name, Tags: e.tags}, nil
}

func (e *userEntry) matches(password string) bool {
	salt := [4]byte(e.hash[:4])
	return subtle.ConstantTimeCompare(hashPassword(salt, password), e.hash) == 1
}

func hashPassword(salt [4]byte, password string) []byte {
	h := sha256.New()
	h.Write(salt[:])
	h.Write([]byte(password))
	return h.Sum(salt[:])
}
