package broker

import (
	"cmp"
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
