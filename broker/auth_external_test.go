package broker

import (
	"errors"
	"testing"
)

func TestAuthenticateExternal(t *testing.T) {
	u := DefaultUsers()
	if err := u.Add(User{Name: "app", Password: "secret", Tags: []string{"monitoring"}}); err != nil {
		t.Fatal(err)
	}
	p, err := u.AuthenticateExternal("app", false)
	if err != nil || p.User != "app" || !p.HasTag("monitoring") {
		t.Fatalf("app: %+v %v", p, err)
	}
	if _, err := u.AuthenticateExternal("nobody", true); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := u.AuthenticateExternal("guest", false); !errors.Is(err, ErrLoopbackOnly) {
		t.Fatalf("guest from elsewhere: %v", err)
	}
	if _, err := u.AuthenticateExternal("guest", true); err != nil {
		t.Fatalf("guest over loopback: %v", err)
	}
}
