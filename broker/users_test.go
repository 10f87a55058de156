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
