package broker

import "testing"

// guest acts in the tests' vhost operations.
var guest = &Principal{User: "guest", Tags: []string{"administrator"}, VHost: "/"}

func openTestBroker(t testing.TB) *Broker {
	t.Helper()
	b, err := Open(Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}
