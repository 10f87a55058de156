package broker

import (
	"errors"
	"testing"
)

func TestDefaultUsersGuest(t *testing.T) {
	u := DefaultUsers()
	p, err := u.Authenticate("guest", "guest", true)
	if err != nil {
		t.Fatal(err)
	}
	if p.User != "guest" || !p.HasTag("administrator") || p.HasTag("management") || p.VHost != "" {
		t.Fatalf("principal %+v", p)
	}
	if _, err := u.Authenticate("guest", "guest", false); !errors.Is(err, ErrLoopbackOnly) {
		t.Fatalf("guest from elsewhere: %v", err)
	}
}

func TestUsersRefuse(t *testing.T) {
	u := DefaultUsers()
	for _, c := range []struct{ user, pass string }{
		{"guest", "wrong"}, {"guest", ""}, {"guest", "guest "}, {"nobody", "guest"}, {"", ""},
	} {
		// Bad credentials are refused before the loopback rule is looked at.
		for _, loopback := range []bool{true, false} {
			if p, err := u.Authenticate(c.user, c.pass, loopback); !errors.Is(err, ErrBadCredentials) || p != nil {
				t.Errorf("%q/%q loopback=%v: %v %v", c.user, c.pass, loopback, p, err)
			}
		}
	}
	if _, err := NewUsers().Authenticate("guest", "guest", true); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("empty table let guest in: %v", err)
	}
}

func TestUsersAddReplaces(t *testing.T) {
	u := DefaultUsers()
	tags := []string{"monitoring"}
	u.Add(User{Name: "guest", Password: "s3cret", Tags: tags})
	tags[0] = "administrator" // the table keeps its own copy
	if _, err := u.Authenticate("guest", "guest", true); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("old password still works: %v", err)
	}
	p, err := u.Authenticate("guest", "s3cret", false)
	if err != nil {
		t.Fatalf("replaced guest (not loopback-only): %v", err)
	}
	if !p.HasTag("monitoring") || p.HasTag("administrator") {
		t.Fatalf("tags %v", p.Tags)
	}
}

// A hash exported by RabbitMQ 3.10.8 (rabbitmqctl export_definitions, user
// tn9u with password "pw") logs in, and exports unchanged.
func TestUsersRabbitMQHash(t *testing.T) {
	const hash = "6hr1bDrOSKocLS8y/hdx3fj55SlXLBYS4ss5aT5DlH8srBvD"
	u := NewUsers()
	if err := u.AddHashed("tn9u", hash, "rabbit_password_hashing_sha256", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Authenticate("tn9u", "pw", false); err != nil {
		t.Fatalf("RabbitMQ's hash: %v", err)
	}
	if _, err := u.Authenticate("tn9u", "pw2", false); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if info, _ := u.Get("tn9u"); info.PasswordHash != hash || info.HashingAlgorithm != "rabbit_password_hashing_sha256" {
		t.Fatalf("exported as %+v", info)
	}
}

// SHA-512 and MD5 hashes (RabbitMQ's other modules) import and log in; a
// hash of the wrong length or an unknown module is refused.
func TestUsersOtherHashes(t *testing.T) {
	u := NewUsers()
	salt := [saltLen]byte{1, 2, 3, 4}
	for _, a := range []hashAlgo{hashSHA512, hashMD5} {
		name := a.name()
		if err := u.AddHashed(name, encodePasswordHash(a.hash(salt, "secret")), name, []string{TagMonitoring}); err != nil {
			t.Fatal(err)
		}
		if p, err := u.Authenticate(name, "secret", true); err != nil || !p.HasTag(TagMonitoring) {
			t.Fatalf("%s: %v %v", name, p, err)
		}
		if _, err := u.Authenticate(name, "Secret", true); err == nil {
			t.Fatalf("%s: wrong password accepted", name)
		}
	}
	if err := u.AddHashed("x", encodePasswordHash(hashSHA512.hash(salt, "s")), "rabbit_password_hashing_sha256", nil); err == nil {
		t.Fatal("a SHA-512 hash taken as SHA-256")
	}
	if err := u.AddHashed("x", "", "rabbit_password_hashing_bcrypt", nil); err == nil {
		t.Fatal("unknown hashing module accepted")
	}
}

// A user without password (certificate logins only) cannot log in with
// any password, the empty one included.
func TestUsersWithoutPassword(t *testing.T) {
	u := NewUsers()
	_ = u.Add(User{Name: "cert-only"})
	_ = u.AddHashed("imported", "", "", nil)
	for _, name := range []string{"cert-only", "imported"} {
		for _, pw := range []string{"", "x"} {
			if _, err := u.Authenticate(name, pw, true); !errors.Is(err, ErrBadCredentials) {
				t.Errorf("%s with %q: %v", name, pw, err)
			}
		}
		if info, ok := u.Get(name); !ok || info.PasswordHash != "" {
			t.Errorf("%s: %+v", name, info)
		}
	}
	_ = u.SetPassword("cert-only", "now")
	if _, err := u.Authenticate("cert-only", "now", true); err != nil {
		t.Fatalf("after SetPassword: %v", err)
	}
}

func TestUsersLoopbackList(t *testing.T) {
	u := NewUsers()
	_ = u.Add(User{Name: "ops", Password: "x"})
	_ = u.AddHashed("guest", encodePasswordHash(hashSHA256.hash([4]byte{}, "guest")), "", nil)
	if _, err := u.Authenticate("guest", "guest", false); !errors.Is(err, ErrLoopbackOnly) {
		t.Fatalf("guest is loopback-only by default: %v", err)
	}
	u.SetLoopbackUsers([]string{"ops"})
	if _, err := u.Authenticate("guest", "guest", false); err != nil {
		t.Fatalf("guest after loopback_users = ops: %v", err)
	}
	if _, err := u.Authenticate("ops", "x", false); !errors.Is(err, ErrLoopbackOnly) {
		t.Fatalf("ops: %v", err)
	}
	if _, err := u.Authenticate("ops", "x", true); err != nil {
		t.Fatalf("ops from loopback: %v", err)
	}
}

func TestUsersDeleteDropsPermissions(t *testing.T) {
	u := NewUsers()
	_ = u.Add(User{Name: "a", Password: "x"})
	_ = u.SetPermissions(Permission{User: "a", VHost: "/", Configure: ".*"})
	_ = u.SetTopicPermissions(TopicPermission{User: "a", VHost: "/", Exchange: "amq.topic", Write: ".*"})
	if err := u.Delete("a"); err != nil {
		t.Fatal(err)
	}
	if len(u.Permissions()) != 0 || len(u.TopicPermissions()) != 0 || u.CanAccessVHost("a", "/") {
		t.Fatalf("left: %v %v", u.Permissions(), u.TopicPermissions())
	}
	if err := u.Delete("a"); !errors.Is(err, ErrNoSuchUser) {
		t.Fatalf("second delete: %v", err)
	}
	if err := u.SetPermissions(Permission{User: "a", VHost: "/"}); !errors.Is(err, ErrNoSuchUser) {
		t.Fatalf("permissions for nobody: %v", err)
	}
}
