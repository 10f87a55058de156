package broker

import (
	"testing"

	"github.com/warrenmq/warren/frame"
)

// Patterns match as RabbitMQ's re:run: anywhere in the name unless
// anchored, and "" matches only the empty name.
func TestPermissionPatterns(t *testing.T) {
	u := NewUsers()
	_ = u.Add(User{Name: "u", Password: "x"})
	if err := u.SetPermissions(Permission{User: "u", VHost: "v", Configure: "", Write: "^w-", Read: "mid"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		verb permVerb
		name string
		ok   bool
	}{
		{permConfigure, "anything", false}, {permConfigure, "", true},
		{permWrite, "w-q", true}, {permWrite, "xw-q", false},
		{permRead, "a-mid-b", true}, {permRead, "mi", false},
	} {
		if got := u.allowed("u", "v", c.verb, c.name); got != c.ok {
			t.Errorf("verb %d on %q: %v, want %v", c.verb, c.name, got, c.ok)
		}
	}
	if u.allowed("u", "other", permRead, "mid") {
		t.Error("permissions leak to another vhost")
	}
	if err := u.SetPermissions(Permission{User: "u", VHost: "v", Configure: "("}); err == nil {
		t.Error("invalid pattern accepted")
	}
}

// {username} and {vhost} in topic patterns are the user's and vhost's.
func TestTopicPermissionVariables(t *testing.T) {
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	users := b.Users()
	_ = users.Add(User{Name: "ann", Password: "x"})
	_ = users.SetPermissions(Permission{User: "ann", VHost: "/", Configure: ".*", Write: ".*", Read: ".*"})
	if err := users.SetTopicPermissions(TopicPermission{User: "ann", VHost: "/", Exchange: "amq.topic", Write: `^{username}\.{vhost}\.`, Read: `^{username}\.`}); err != nil {
		t.Fatal(err)
	}
	ann := &Principal{User: "ann", VHost: "/"}
	x, _ := v.Exchange("amq.topic")
	for _, c := range []struct {
		verb permVerb
		key  string
		ok   bool
	}{
		{permWrite, "ann./.x", true}, {permWrite, "ann.x", false}, {permWrite, "bob./.x", false},
		{permRead, "ann.#", true}, {permRead, "#", false},
	} {
		err := v.permitTopic(ann, c.verb, x, c.key)
		if (err == nil) != c.ok {
			t.Errorf("verb %d key %q: %v", c.verb, c.key, err)
		}
	}
	d, _ := v.Exchange("amq.direct")
	if err := v.permitTopic(ann, permWrite, d, "any"); err != nil {
		t.Errorf("topic permissions apply to topic exchanges only: %v", err)
	}
	err := v.permitTopic(ann, permWrite, x, "zz")
	if fe, ok := err.(*frame.Error); !ok || fe.Code != frame.AccessRefused || fe.Text != "access to topic 'zz' in exchange 'amq.topic' in vhost '/' refused for user 'ann'" {
		t.Errorf("refusal: %#v", err)
	}
}

// A channel's publish check is remembered per exchange and redone when
// permissions change.
func TestPublishPermissionCache(t *testing.T) {
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	users := b.Users()
	_ = users.Add(User{Name: "pub", Password: "x"})
	_ = users.SetPermissions(Permission{User: "pub", VHost: "/", Write: ".*"})
	p := &Principal{User: "pub", VHost: "/"}
	var cache PublishCache
	m := &Message{Exchange: []byte("amq.fanout"), RoutingKey: []byte("k")}
	if _, _, err := v.Publish(p, m, &cache, nil); err != nil {
		t.Fatal(err)
	}
	_ = users.SetPermissions(Permission{User: "pub", VHost: "/", Write: "^amq\\.direct$"})
	if _, _, err := v.Publish(p, m, &cache, nil); err == nil {
		t.Fatal("publish allowed after its permission was revoked")
	}
}
