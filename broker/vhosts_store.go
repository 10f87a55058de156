package broker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The data dir's definitions.json holds the broker-wide definitions: the
// vhosts, users, permissions and topic permissions, in the shape and key
// names of a RabbitMQ definitions export, so the file can be imported into
// RabbitMQ (rabbitmqctl import_definitions) and a RabbitMQ export read
// here (ImportDefinitions). Each vhost's topology stays in its own
// directory (definitions.go). These change seldom: every change rewrites
// the file (write, fsync, rename), and is durable when the call returns.
const accessFile = "definitions.json"

type accessDefs struct {
	Users            []userDef      `json:"users"`
	VHosts           []vhostDef     `json:"vhosts"`
	Permissions      []permDef      `json:"permissions"`
	TopicPermissions []topicPermDef `json:"topic_permissions"`
	Parameters       []parameterDef `json:"parameters,omitempty"` // vhost limits (resource_limits.go)
}

type userDef struct {
	Name             string  `json:"name"`
	PasswordHash     string  `json:"password_hash"`
	HashingAlgorithm string  `json:"hashing_algorithm"`
	Tags             tagList `json:"tags"`
	Limits           Limits  `json:"limits,omitempty"`
}

type vhostDef struct {
	Name string `json:"name"`
}

type permDef struct {
	User      string `json:"user"`
	VHost     string `json:"vhost"`
	Configure string `json:"configure"`
	Write     string `json:"write"`
	Read      string `json:"read"`
}

type topicPermDef struct {
	User     string `json:"user"`
	VHost    string `json:"vhost"`
	Exchange string `json:"exchange"`
	Write    string `json:"write"`
	Read     string `json:"read"`
}

// tagList reads tags as RabbitMQ 3.9+ exports them (a list) and as older
// versions did ("administrator,management"); it writes a list.
type tagList []string

func (t *tagList) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte(`"`)) {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = nil
		for _, tag := range strings.Split(s, ",") {
			if tag = strings.TrimSpace(tag); tag != "" {
				*t = append(*t, tag)
			}
		}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(t))
}

func (t tagList) MarshalJSON() ([]byte, error) {
	if t == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]string(t))
}

// openAccess reads definitions.json into the user table and returns the
// vhosts to open. A data dir without one, or whose file holds no user, no
// vhost and no permission, starts as RabbitMQ's first boot
// (rabbit_table:needs_default_data, which asks the same of its three
// tables): the default vhost, and the users the configuration seeded
// (guest). So a start whose definitions import failed, leaving an empty
// file, seeds the defaults on the next start without load_definitions, as
// RabbitMQ does. fresh reports that case: the names are the default
// vhost's, and the configured users are what must be stored.
func (b *Broker) openAccess() (names []string, params []parameterDef, fresh bool, err error) {
	data, err := os.ReadFile(filepath.Join(b.cfg.DataDir, accessFile))
	if errors.Is(err, fs.ErrNotExist) {
		return []string{b.defaultVHost()}, nil, true, nil
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("read %s: %w", accessFile, err)
	}
	var d accessDefs
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, nil, false, fmt.Errorf("parse %s: %w", filepath.Join(b.cfg.DataDir, accessFile), err)
	}
	if len(d.Users) == 0 && len(d.VHosts) == 0 && len(d.Permissions) == 0 {
		return []string{b.defaultVHost()}, nil, true, nil
	}
	b.cfg.Users.reset()
	if err := b.cfg.Users.importDefs(d); err != nil {
		return nil, nil, false, fmt.Errorf("%s: %w", filepath.Join(b.cfg.DataDir, accessFile), err)
	}
	names = make([]string, 0, len(d.VHosts))
	for _, v := range d.VHosts {
		names = append(names, v.Name)
	}
	return names, d.Parameters, false, nil
}

func (b *Broker) defaultVHost() string {
	if b.cfg.DefaultVHost != "" {
		return b.cfg.DefaultVHost
	}
	return DefaultVHost
}

// reset empties the table before the stored one is read into it (the
// loopback list is configuration and stays).
func (u *Users) reset() {
	u.mu.Lock()
	clear(u.users)
	clear(u.perms)
	clear(u.topics)
	clear(u.limits)
	u.mu.Unlock()
	u.gen.Add(1)
}

// importDefs adds the users, permissions and topic permissions of a
// definitions file, replacing those of the same names, and stores the
// table once.
func (u *Users) importDefs(d accessDefs) error {
	if err := u.importEntries(d); err != nil {
		return err
	}
	return u.changed()
}

func (u *Users) importEntries(d accessDefs) error {
	for _, ud := range d.Users {
		if err := u.addHashed(ud.Name, ud.PasswordHash, ud.HashingAlgorithm, ud.Tags); err != nil {
			return err
		}
		if err := u.setLimits(ud.Name, ud.Limits); err != nil {
			return err
		}
	}
	for _, p := range d.Permissions {
		if err := u.setPermissions(Permission(p)); err != nil {
			return fmt.Errorf("permissions of '%s' in vhost '%s': %w", p.User, p.VHost, err)
		}
	}
	for _, p := range d.TopicPermissions {
		if err := u.setTopicPermissions(TopicPermission(p)); err != nil {
			return fmt.Errorf("topic permissions of '%s' in vhost '%s': %w", p.User, p.VHost, err)
		}
	}
	return nil
}

// ImportDefinitions adds what a RabbitMQ definitions export holds of
// vhosts, users, permissions and topic permissions (other keys are left
// to their own importers); importing the same file twice changes nothing.
func (b *Broker) ImportDefinitions(data []byte) error {
	var d accessDefs
	if err := json.Unmarshal(data, &d); err != nil {
		return fmt.Errorf("definitions: %w", err)
	}
	for _, v := range d.VHosts {
		if err := b.AddVHost(v.Name); err != nil {
			return err
		}
	}
	if err := b.applyLimitParameters(d.Parameters); err != nil {
		return err
	}
	return b.cfg.Users.importDefs(d)
}

// exportDefs is the table in definitions form.
func (u *Users) exportDefs() accessDefs {
	var d accessDefs
	for _, ui := range u.List() {
		d.Users = append(d.Users, userDef{ui.Name, ui.PasswordHash, ui.HashingAlgorithm, ui.Tags, u.userLimitsFor(ui.Name)})
	}
	for _, p := range u.Permissions() {
		d.Permissions = append(d.Permissions, permDef(p))
	}
	for _, p := range u.TopicPermissions() {
		d.TopicPermissions = append(d.TopicPermissions, topicPermDef(p))
	}
	return d
}

// saveAccess writes definitions.json from memory. Changes are rare, and
// serialised here so the file always ends with the latest state.
func (b *Broker) saveAccess() error {
	b.accessMu.Lock()
	defer b.accessMu.Unlock()
	d := b.cfg.Users.exportDefs()
	for _, n := range b.VHosts() {
		d.VHosts = append(d.VHosts, vhostDef{n})
	}
	d.Parameters = b.limitParameters()
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(b.cfg.DataDir, accessFile, data); err != nil {
		return fmt.Errorf("cannot store definitions: %w", err)
	}
	return nil
}

// writeFileAtomic replaces dir/name with data: a crash leaves the old
// file or the new, never a mix.
func writeFileAtomic(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	df, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer df.Close()
	return df.Sync()
}
