package broker

import (
	"cmp"
	"errors"
	"slices"
)

// UserView is a user as management lists it: no password, the salted
// hash in RabbitMQ's rabbit_password_hashing_sha256 layout.
type UserView struct {
	Name         string
	PasswordHash []byte // 4 salt bytes, then SHA-256(salt+password)
	Tags         []string
}

// List returns the users by name.
func (u *Users) List() []UserView {
	u.mu.RLock()
	out := make([]UserView, 0, len(u.users))
	for name, e := range u.users {
		out = append(out, UserView{Name: name, PasswordHash: slices.Clone(e.hash), Tags: slices.Clone(e.tags)})
	}
	u.mu.RUnlock()
	slices.SortFunc(out, func(x, y UserView) int { return cmp.Compare(x.Name, y.Name) })
	return out
}

// Lookup returns one user.
func (u *Users) Lookup(name string) (UserView, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	e, ok := u.users[name]
	if !ok {
		return UserView{}, false
	}
	return UserView{Name: name, PasswordHash: slices.Clone(e.hash), Tags: slices.Clone(e.tags)}, true
}

// AddHashed creates or replaces a user from a definitions import: hash is
// in the rabbit_password_hashing_sha256 layout (4 salt bytes, then
// SHA-256(salt+password)), as RabbitMQ exports it, so an exported user
// logs in with the same password here.
func (u *Users) AddHashed(name string, hash []byte, tags []string) error {
	if len(hash) != 4+32 {
		return errors.New("password_hash is not a salted SHA-256 (36 bytes)")
	}
	e := &userEntry{hash: slices.Clone(hash), tags: slices.Clone(tags)}
	u.mu.Lock()
	if old, ok := u.users[name]; ok {
		e.loopbackOnly = old.loopbackOnly
	}
	u.users[name] = e
	u.mu.Unlock()
	return nil
}
