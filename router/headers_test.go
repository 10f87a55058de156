package router

import (
	"errors"
	"testing"
	"time"

	"github.com/warrenmq/warren/frame"
)

func TestHeadersMatch(t *testing.T) {
	ts := time.Unix(1700000000, 0)
	cases := []struct {
		name string
		args frame.Table
		hdrs frame.Table
		want bool
	}{
		{"all default, all present", frame.Table{"a": "1", "b": int32(2)}, frame.Table{"a": "1", "b": int32(2), "c": true}, true},
		{"all default, one missing", frame.Table{"a": "1", "b": int32(2)}, frame.Table{"a": "1"}, false},
		{"all, one differs", frame.Table{"x-match": "all", "a": "1", "b": "2"}, frame.Table{"a": "1", "b": "3"}, false},
		{"any, one matches", frame.Table{"x-match": "any", "a": "1", "b": "2"}, frame.Table{"b": "2"}, true},
		{"any, none matches", frame.Table{"x-match": "any", "a": "1"}, frame.Table{"a": "2"}, false},
		{"any, nil headers", frame.Table{"x-match": "any", "a": "1"}, nil, false},
		{"all, nothing to match", frame.Table{"x-match": "all"}, nil, true},
		{"no args at all", nil, frame.Table{"k": "v"}, true},
		{"any, nothing to match", frame.Table{"x-match": "any"}, frame.Table{"a": "1"}, false},
		{"void matches presence", frame.Table{"a": nil}, frame.Table{"a": int64(99)}, true},
		{"void needs presence", frame.Table{"a": nil}, frame.Table{"b": int64(99)}, false},
		{"void any", frame.Table{"x-match": "any", "a": nil, "b": "z"}, frame.Table{"a": "whatever"}, true},
		{"x- args ignored in all", frame.Table{"x-foo": "1", "a": "1"}, frame.Table{"a": "1"}, true},
		{"x- args ignored in any", frame.Table{"x-match": "any", "x-foo": "1"}, frame.Table{"x-foo": "1"}, false},
		{"all-with-x uses x- args", frame.Table{"x-match": "all-with-x", "x-foo": "1", "a": "1"}, frame.Table{"a": "1"}, false},
		{"all-with-x matches x- args", frame.Table{"x-match": "all-with-x", "x-foo": "1", "a": "1"}, frame.Table{"a": "1", "x-foo": "1"}, true},
		{"any-with-x", frame.Table{"x-match": "any-with-x", "x-foo": "1"}, frame.Table{"x-foo": "1"}, true},
		{"x-match header itself not required", frame.Table{"x-match": "all-with-x", "a": "1"}, frame.Table{"a": "1"}, true},
		{"ints across widths", frame.Table{"n": int8(7)}, frame.Table{"n": uint32(7)}, true},
		{"int64 vs int16", frame.Table{"n": int64(-3)}, frame.Table{"n": int16(-3)}, true},
		{"int vs float (Erlang ==)", frame.Table{"n": int32(2)}, frame.Table{"n": float64(2)}, true},
		{"int vs different float", frame.Table{"n": int32(2)}, frame.Table{"n": 2.5}, false},
		{"int vs string", frame.Table{"n": int32(2)}, frame.Table{"n": "2"}, false},
		{"string vs bytes", frame.Table{"s": "abc"}, frame.Table{"s": []byte("abc")}, true},
		{"bool", frame.Table{"b": true}, frame.Table{"b": true}, true},
		{"bool vs int", frame.Table{"b": true}, frame.Table{"b": int8(1)}, false},
		{"decimal", frame.Table{"d": frame.Decimal{Scale: 2, Value: 100}}, frame.Table{"d": frame.Decimal{Scale: 2, Value: 100}}, true},
		{"decimal scale differs", frame.Table{"d": frame.Decimal{Scale: 2, Value: 100}}, frame.Table{"d": frame.Decimal{Scale: 1, Value: 10}}, false},
		{"timestamp", frame.Table{"t": ts}, frame.Table{"t": ts}, true},
		{"timestamp vs seconds", frame.Table{"t": ts}, frame.Table{"t": int64(1700000000)}, true},
		{"array", frame.Table{"a": []any{"x", int32(1)}}, frame.Table{"a": []any{"x", int64(1)}}, true},
		{"array differs", frame.Table{"a": []any{"x"}}, frame.Table{"a": []any{"x", "y"}}, false},
		{"table", frame.Table{"t": frame.Table{"k": "v"}}, frame.Table{"t": frame.Table{"k": "v"}}, true},
		{"table differs", frame.Table{"t": frame.Table{"k": "v"}}, frame.Table{"t": frame.Table{"k": "w"}}, false},
		{"void header vs value", frame.Table{"a": "1"}, frame.Table{"a": nil}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := New[string]()
			must(t, r.AddExchange("h", KindHeaders))
			must(t, r.Bind("h", "q", "", c.args))
			calls := 0
			got := r.Route("h", []byte("ignored"), func() frame.Table { calls++; return c.hdrs }, nil)
			if (len(got) == 1) != c.want {
				t.Fatalf("routed to %q, want match=%v", got, c.want)
			}
			if calls != 1 {
				t.Fatalf("headers called %d times", calls)
			}
		})
	}
}

func TestHeadersInvalidXMatch(t *testing.T) {
	r := New[string]()
	must(t, r.AddExchange("h", KindHeaders))
	must(t, r.AddExchange("d", KindDirect))
	for _, bad := range []any{"some", "", []byte("all"), int32(1)} {
		err := r.Bind("h", "q", "", frame.Table{"x-match": bad})
		if !errors.Is(err, ErrInvalidArgs) {
			t.Errorf("x-match %#v: err %v", bad, err)
		}
		if err := r.BindExchange("h", "d", "", frame.Table{"x-match": bad}); !errors.Is(err, ErrInvalidArgs) {
			t.Errorf("exchange bind x-match %#v: err %v", bad, err)
		}
	}
	if r.HasBindings("h") {
		t.Fatal("a rejected binding was recorded")
	}
	// Other kinds do not look at x-match, as in RabbitMQ.
	must(t, r.Bind("d", "q", "k", frame.Table{"x-match": "some"}))
}

func TestHeadersNotCalledWithoutHeadersExchange(t *testing.T) {
	r := New[string]()
	must(t, r.AddExchange("d", KindDirect))
	must(t, r.AddExchange("h", KindHeaders))
	must(t, r.Bind("d", "q", "k", nil))
	must(t, r.BindExchange("d", "d", "k", nil)) // forces the general path
	fail := func() frame.Table { t.Fatal("headers called"); return nil }
	if got := r.Route("d", []byte("k"), fail, nil); len(got) != 1 {
		t.Fatalf("got %q", got)
	}
	// A headers exchange without bindings does not need them either.
	if got := r.Route("h", []byte("k"), fail, nil); len(got) != 0 {
		t.Fatalf("got %q", got)
	}
}

func TestHeadersDedupeAndUnbind(t *testing.T) {
	r := New[string]()
	must(t, r.AddExchange("h", KindHeaders))
	a1 := frame.Table{"a": "1"}
	a2 := frame.Table{"x-match": "any", "a": "1", "b": "2"}
	must(t, r.Bind("h", "q", "", a1))
	must(t, r.Bind("h", "q", "", a2))
	must(t, r.Bind("h", "q", "", frame.Table{"a": "1"})) // same identity as a1
	h := func() frame.Table { return frame.Table{"a": "1", "b": "2"} }
	if got := r.Route("h", nil, h, nil); len(got) != 1 {
		t.Fatalf("got %q", got)
	}
	must(t, r.Unbind("h", "q", "", frame.Table{"a": "1"}))
	if got := r.Route("h", nil, h, nil); len(got) != 1 {
		t.Fatalf("after one unbind got %q", got)
	}
	must(t, r.Unbind("h", "q", "", a2))
	if got := r.Route("h", nil, h, nil); len(got) != 0 || r.HasBindings("h") {
		t.Fatalf("after both unbinds got %q", got)
	}
}
