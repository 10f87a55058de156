package fast

import "testing"

func TestParseURI(t *testing.T) {
	cases := map[string]URI{
		"amqp://guest:guest@127.0.0.1:5672/": {"127.0.0.1:5672", "guest", "guest", "/"},
		"amqp://u:p@localhost:5673/%2Fperf":  {"localhost:5673", "u", "p", "/perf"},
		"amqp://127.0.0.1/vh":                {"127.0.0.1:5672", "guest", "guest", "vh"},
		"amqp://a@[::1]:5700":                {"[::1]:5700", "a", "guest", "/"},
	}
	for in, want := range cases {
		got, err := ParseURI(in)
		if err != nil || got != want {
			t.Errorf("%s: got %+v err %v, want %+v", in, got, err, want)
		}
	}
	if _, err := ParseURI("amqps://x/"); err == nil {
		t.Error("amqps accepted")
	}
}
