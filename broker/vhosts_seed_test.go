package broker

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// RabbitMQ seeds the default vhost and user on a fresh node only when it
// has no definitions to load (rabbit:maybe_insert_default_data), and
// counts as fresh a node whose user, permission and vhost tables are all
// empty (rabbit_table:needs_default_data).
func TestDefaultDataSeeding(t *testing.T) {
	open := func(t *testing.T, dir string, defsToLoad bool) *Broker {
		t.Helper()
		b, err := Open(Config{DataDir: dir, Users: DefaultUsers(), DefinitionsToLoad: defsToLoad})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Run("definitions to load: nothing seeded", func(t *testing.T) {
		dir := t.TempDir()
		b := open(t, dir, true)
		if vs := b.VHosts(); len(vs) != 0 {
			t.Errorf("vhosts %v, want none", vs)
		}
		if us := b.Users().List(); len(us) != 0 {
			t.Errorf("users %v, want none", us)
		}
		if ps := b.Users().Permissions(); len(ps) != 0 {
			t.Errorf("permissions %v, want none", ps)
		}
		if err := b.AddVHost("tenant"); err != nil { // what an import does
			t.Fatal(err)
		}
		_ = b.Close()
		b = open(t, dir, false) // no longer fresh: nothing seeded either
		defer b.Close()
		if vs := b.VHosts(); !slices.Equal(vs, []string{"tenant"}) {
			t.Errorf("vhosts after restart %v, want [tenant]", vs)
		}
		if _, ok := b.Users().Get("guest"); ok {
			t.Error("guest seeded into a data dir that holds definitions")
		}
	})
	t.Run("no definitions to load: default vhost and user", func(t *testing.T) {
		b := open(t, t.TempDir(), false)
		defer b.Close()
		if vs := b.VHosts(); !slices.Equal(vs, []string{"/"}) {
			t.Errorf("vhosts %v, want [/]", vs)
		}
		if !b.Users().CanAccessVHost("guest", "/") {
			t.Error("guest not seeded with permissions on /")
		}
	})
	t.Run("empty stored tables count as fresh", func(t *testing.T) {
		// What a first start whose import failed leaves behind.
		dir := t.TempDir()
		data := []byte(`{"users": [], "vhosts": [], "permissions": [], "topic_permissions": []}`)
		if err := os.WriteFile(filepath.Join(dir, accessFile), data, 0o600); err != nil {
			t.Fatal(err)
		}
		b := open(t, dir, false)
		defer b.Close()
		if vs := b.VHosts(); !slices.Equal(vs, []string{"/"}) {
			t.Errorf("vhosts %v after a start that left %s, want [/]", vs, data)
		}
		if !b.Users().CanAccessVHost("guest", "/") {
			t.Error("guest not seeded")
		}
	})
}
