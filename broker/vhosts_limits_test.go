package broker

import (
	"errors"
	"maps"
	"testing"
)

// default_limits: a new vhost takes the limits of the first pattern its
// name matches, they are enforced and stored with it, vhosts that exist
// keep theirs, and a limit set afterwards replaces them.
func TestDefaultVHostLimits(t *testing.T) {
	dir := t.TempDir()
	defaults := []DefaultLimits{
		{Pattern: "^pipelines", Limits: Limits{LimitMaxConnections: 10, LimitMaxQueues: 2}},
		{Pattern: "^telemetry", Limits: Limits{LimitMaxQueues: -1}},
		{Pattern: ".*", Limits: Limits{LimitMaxQueues: 1}},
	}
	b, err := Open(Config{DataDir: dir, DefaultLimits: defaults})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		vhost string
		want  Limits
	}{
		{"/", Limits{LimitMaxQueues: 1}}, // a fresh data dir's vhost is new too
		{"pipelines-eu", Limits{LimitMaxConnections: 10, LimitMaxQueues: 2}},
		{"telemetry", Limits{LimitMaxQueues: -1}},
		{"billing", Limits{LimitMaxQueues: 1}},
	} {
		if c.vhost != "/" {
			if err := b.AddVHost(c.vhost); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := b.VHostLimits(c.vhost); !maps.Equal(got, c.want) {
			t.Errorf("vhost %q limits %v, want %v", c.vhost, got, c.want)
		}
	}
	v, _ := b.VHost("pipelines-eu")
	for i, name := range []string{"a", "b", "c"} {
		_, err := v.QueueDeclare(nil, QueueDeclareOptions{Name: name, Durable: true})
		if (err == nil) != (i < 2) {
			t.Errorf("queue %d of max-queues 2: %v", i+1, err)
		}
	}
	if err := b.SetVHostLimits("billing", Limits{LimitMaxQueues: 5}); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	// A restart with other defaults changes no vhost that exists.
	b, err = Open(Config{DataDir: dir, DefaultLimits: []DefaultLimits{{Pattern: "", Limits: Limits{LimitMaxQueues: 7}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for vhost, want := range map[string]Limits{
		"/":            {LimitMaxQueues: 1},
		"pipelines-eu": {LimitMaxConnections: 10, LimitMaxQueues: 2},
		"billing":      {LimitMaxQueues: 5},
	} {
		if got, _ := b.VHostLimits(vhost); !maps.Equal(got, want) {
			t.Errorf("after restart, vhost %q limits %v, want %v", vhost, got, want)
		}
	}
	if err := b.AddVHost("new"); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.VHostLimits("new"); !maps.Equal(got, Limits{LimitMaxQueues: 7}) {
		t.Errorf("vhost created after restart: %v", got)
	}
}

func TestDefaultVHostLimitsRefused(t *testing.T) {
	for _, d := range []DefaultLimits{
		{Pattern: "(", Limits: Limits{LimitMaxQueues: 1}},
		{Pattern: ".*", Limits: Limits{"max-channels": 1}},
	} {
		if _, err := Open(Config{DataDir: t.TempDir(), DefaultLimits: []DefaultLimits{d}}); err == nil {
			t.Errorf("%+v accepted", d)
		} else if errors.Is(err, ErrNoSuchVHost) {
			t.Errorf("%+v: %v", d, err)
		}
	}
}
