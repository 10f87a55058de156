package broker

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Permission is a user's access to one vhost, as RabbitMQ's
// set_permissions: three regular expressions a resource's name must match
// (anywhere, unless anchored) for the user to configure (declare, delete),
// write (publish to, bind to) or read (consume from, get from, purge, bind
// from) it. "" matches nothing.
type Permission struct {
	User, VHost            string
	Configure, Write, Read string
}

// TopicPermission restricts the routing keys a user may publish with
// (Write) and bind with (Read) on one topic exchange of a vhost, as
// RabbitMQ's set_topic_permissions. {username} and {vhost} in the patterns
// stand for the user's name and the vhost's.
type TopicPermission struct {
	User, VHost, Exchange string
	Write, Read           string
}

type permKey struct{ user, vhost string }

type permVerb uint8

const (
	permConfigure permVerb = iota
	permWrite
	permRead
)

type compiledPerm struct {
	def Permission
	re  [3]*regexp.Regexp // by permVerb
}

type topicPerm struct {
	def         TopicPermission
	write, read *regexp.Regexp
}

// compilePattern compiles one permission pattern. As RabbitMQ, "" means
// "^$" (nothing but the empty name); the match is a search, not anchored.
func compilePattern(p string) (*regexp.Regexp, error) {
	if p == "" {
		p = "^$"
	}
	return regexp.Compile(p)
}

func compilePerm(p Permission) (*compiledPerm, error) {
	cp := &compiledPerm{def: p}
	for i, s := range [3]string{p.Configure, p.Write, p.Read} {
		re, err := compilePattern(s)
		if err != nil {
			return nil, fmt.Errorf("invalid permission pattern '%s': %w", s, err)
		}
		cp.re[i] = re
	}
	return cp, nil
}

// expandTopicPattern replaces RabbitMQ's variables, unescaped as RabbitMQ
// does, before the pattern is compiled.
func expandTopicPattern(p, user, vhost string) string {
	return strings.NewReplacer("{username}", user, "{vhost}", vhost).Replace(p)
}

func compileTopicPerm(p TopicPermission) (*topicPerm, error) {
	tp := &topicPerm{def: p}
	var err error
	if tp.write, err = compilePattern(expandTopicPattern(p.Write, p.User, p.VHost)); err != nil {
		return nil, fmt.Errorf("invalid topic permission pattern '%s': %w", p.Write, err)
	}
	if tp.read, err = compilePattern(expandTopicPattern(p.Read, p.User, p.VHost)); err != nil {
		return nil, fmt.Errorf("invalid topic permission pattern '%s': %w", p.Read, err)
	}
	return tp, nil
}

// SetPermissions grants (replacing) a user's permissions in a vhost. The
// user must exist; the vhost need not yet (definitions list permissions
// before or after vhosts).
func (u *Users) SetPermissions(p Permission) error {
	if err := u.setPermissions(p); err != nil {
		return err
	}
	return u.changed()
}

func (u *Users) setPermissions(p Permission) error {
	cp, err := compilePerm(p)
	if err != nil {
		return err
	}
	u.mu.Lock()
	if _, ok := u.users[p.User]; !ok {
		u.mu.Unlock()
		return ErrNoSuchUser
	}
	u.perms[permKey{p.User, p.VHost}] = cp
	u.mu.Unlock()
	return nil
}

// ClearPermissions revokes a user's access to a vhost.
func (u *Users) ClearPermissions(user, vhost string) error {
	u.mu.Lock()
	delete(u.perms, permKey{user, vhost})
	u.mu.Unlock()
	return u.changed()
}

// Permissions lists every grant, by user then vhost.
func (u *Users) Permissions() []Permission {
	u.mu.RLock()
	out := make([]Permission, 0, len(u.perms))
	for _, cp := range u.perms {
		out = append(out, cp.def)
	}
	u.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		return out[i].User < out[j].User || out[i].User == out[j].User && out[i].VHost < out[j].VHost
	})
	return out
}

// SetTopicPermissions sets (replacing) a user's topic permissions on one
// exchange of a vhost.
func (u *Users) SetTopicPermissions(p TopicPermission) error {
	if err := u.setTopicPermissions(p); err != nil {
		return err
	}
	return u.changed()
}

func (u *Users) setTopicPermissions(p TopicPermission) error {
	tp, err := compileTopicPerm(p)
	if err != nil {
		return err
	}
	u.mu.Lock()
	if _, ok := u.users[p.User]; !ok {
		u.mu.Unlock()
		return ErrNoSuchUser
	}
	k := permKey{p.User, p.VHost}
	m := u.topics[k]
	if m == nil {
		m = make(map[string]*topicPerm)
		u.topics[k] = m
	}
	m[p.Exchange] = tp
	u.mu.Unlock()
	return nil
}

// ClearTopicPermissions removes a user's topic permissions in a vhost: on
// one exchange, or on all when exchange is "".
func (u *Users) ClearTopicPermissions(user, vhost, exchange string) error {
	u.mu.Lock()
	k := permKey{user, vhost}
	if exchange == "" {
		delete(u.topics, k)
	} else if m := u.topics[k]; m != nil {
		delete(m, exchange)
		if len(m) == 0 {
			delete(u.topics, k)
		}
	}
	u.mu.Unlock()
	return u.changed()
}

// TopicPermissions lists every topic permission, by user, vhost, exchange.
func (u *Users) TopicPermissions() []TopicPermission {
	u.mu.RLock()
	var out []TopicPermission
	for _, m := range u.topics {
		for _, tp := range m {
			out = append(out, tp.def)
		}
	}
	u.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.User != b.User {
			return a.User < b.User
		}
		if a.VHost != b.VHost {
			return a.VHost < b.VHost
		}
		return a.Exchange < b.Exchange
	})
	return out
}

// dropVHostPermissions forgets every grant in a deleted vhost.
func (u *Users) dropVHostPermissions(vhost string) {
	u.mu.Lock()
	for k := range u.perms {
		if k.vhost == vhost {
			delete(u.perms, k)
		}
	}
	for k := range u.topics {
		if k.vhost == vhost {
			delete(u.topics, k)
		}
	}
	u.mu.Unlock()
	u.gen.Add(1)
}

// CanAccessVHost says whether the user has any permissions in the vhost:
// connection.open needs that, as in RabbitMQ.
func (u *Users) CanAccessVHost(user, vhost string) bool {
	u.mu.RLock()
	_, ok := u.perms[permKey{user, vhost}]
	u.mu.RUnlock()
	return ok
}

// allowed says whether user may act (verb) on the resource called name in
// vhost.
func (u *Users) allowed(user, vhost string, verb permVerb, name string) bool {
	u.mu.RLock()
	cp := u.perms[permKey{user, vhost}]
	u.mu.RUnlock()
	return cp != nil && cp.re[verb].MatchString(name)
}

// topicPermission is the user's topic permission on an exchange, or nil
// when there is none (and every routing key is allowed).
func (u *Users) topicPermission(user, vhost, exchange string) *topicPerm {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return u.topics[permKey{user, vhost}][exchange]
}
