package router

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/warrenmq/warren/frame"
)

func TestParseKind(t *testing.T) {
	for _, k := range []Kind{KindDirect, KindFanout, KindTopic, KindHeaders} {
		if got, ok := ParseKind(k.String()); !ok || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), got, ok)
		}
	}
	if _, ok := ParseKind("x-random"); ok {
		t.Error("plugin kind accepted")
	}
}

func TestAddExchange(t *testing.T) {
	r := New[string]()
	must(t, r.AddExchange("e", KindDirect))
	must(t, r.AddExchange("e", KindDirect))
	if err := r.AddExchange("e", KindFanout); !errors.Is(err, ErrKindMismatch) {
		t.Fatalf("err = %v", err)
	}
	if err := r.AddExchange("bad", Kind(0)); err == nil {
		t.Fatal("invalid kind accepted")
	}
	if k, ok := r.ExchangeKind("e"); !ok || k != KindDirect {
		t.Fatalf("kind %v %v", k, ok)
	}
	if got := r.Route("missing", []byte("k"), nil, nil); got != nil {
		t.Fatalf("unknown exchange routed to %q", got)
	}
	err := r.Bind("missing", "q", "", nil)
	var ne *NoExchangeError
	if !errors.As(err, &ne) || ne.Name != "missing" || !errors.Is(err, ErrNoExchange) {
		t.Fatalf("err = %v", err)
	}
	err = r.BindExchange("e", "nope", "", nil)
	if !errors.As(err, &ne) || ne.Name != "nope" {
		t.Fatalf("err = %v", err)
	}
}

func TestDirect(t *testing.T) {
	r := New[string]()
	must(t, r.AddExchange("d", KindDirect))
	must(t, r.Bind("d", "q1", "k", nil))
	must(t, r.Bind("d", "q2", "k", nil))
	must(t, r.Bind("d", "q1", "k", nil))                          // idempotent
	must(t, r.Bind("d", "q1", "k", frame.Table{"x-a": int32(1)})) // another binding, same route
	must(t, r.Bind("d", "q3", "other", nil))
	if got := routeSet(r, "d", "k"); !slices.Equal(got, []string{"q1", "q2"}) {
		t.Fatalf("got %q", got)
	}
	if got := routeSet(r, "d", "K"); len(got) != 0 {
		t.Fatalf("keys are case-sensitive; got %q", got)
	}
	must(t, r.Unbind("d", "q1", "k", nil))
	if got := routeSet(r, "d", "k"); !slices.Equal(got, []string{"q1", "q2"}) {
		t.Fatalf("q1 still has the args binding; got %q", got)
	}
	must(t, r.Unbind("d", "q1", "k", frame.Table{"x-a": int32(1)}))
	must(t, r.Unbind("d", "q1", "k", frame.Table{"x-a": int32(1)})) // missing: not an error
	must(t, r.Unbind("d", "q9", "zz", nil))
	if got := routeSet(r, "d", "k"); !slices.Equal(got, []string{"q2"}) {
		t.Fatalf("got %q", got)
	}
	// args identity is type-exact, as RabbitMQ compares terms
	must(t, r.Bind("d", "q4", "k", frame.Table{"n": int32(1)}))
	must(t, r.Unbind("d", "q4", "k", frame.Table{"n": int64(1)}))
	if got := routeSet(r, "d", "k"); !slices.Equal(got, []string{"q2", "q4"}) {
		t.Fatalf("got %q", got)
	}
	if n := len(r.SourceBindings("d")); n != 3 {
		t.Fatalf("%d bindings", n)
	}
}

func TestFanout(t *testing.T) {
	r := New[string]()
	must(t, r.AddExchange("f", KindFanout))
	for i := range 5 {
		must(t, r.Bind("f", fmt.Sprint("q", i), fmt.Sprint("key", i), nil))
	}
	must(t, r.Bind("f", "q0", "another", nil)) // same queue twice
	if got := routeSet(r, "f", "anything"); !slices.Equal(got, []string{"q0", "q1", "q2", "q3", "q4"}) {
		t.Fatalf("got %q", got)
	}
	must(t, r.Unbind("f", "q0", "key0", nil))
	if got := routeSet(r, "f", ""); len(got) != 5 {
		t.Fatalf("q0 still bound by 'another'; got %q", got)
	}
	must(t, r.Unbind("f", "q0", "another", nil))
	if got := routeSet(r, "f", ""); len(got) != 4 {
		t.Fatalf("got %q", got)
	}
}

func TestRouteAppendsToDst(t *testing.T) {
	r := New[string]()
	must(t, r.AddExchange("d", KindDirect))
	must(t, r.Bind("d", "q", "k", nil))
	got := r.Route("d", []byte("k"), nil, []string{"pre"})
	if !slices.Equal(got, []string{"pre", "q"}) {
		t.Fatalf("got %q", got)
	}
	// Dedupe is relative to what this Route appended, not to dst's prefix.
	must(t, r.BindExchange("d", "d", "k", nil))
	got = r.Route("d", []byte("k"), nil, []string{"q"})
	if !slices.Equal(got, []string{"q", "q"}) {
		t.Fatalf("got %q", got)
	}
}

func TestExchangeToExchange(t *testing.T) {
	r := New[string]()
	must(t, r.AddExchange("src", KindTopic))
	must(t, r.AddExchange("mid", KindFanout))
	must(t, r.AddExchange("leaf", KindDirect))
	must(t, r.AddExchange("h", KindHeaders))
	must(t, r.BindExchange("src", "mid", "a.#", nil))
	must(t, r.BindExchange("src", "leaf", "#", nil))
	must(t, r.BindExchange("mid", "leaf", "", nil))
	must(t, r.BindExchange("mid", "src", "", nil)) // cycle
	must(t, r.BindExchange("leaf", "leaf", "a.b", nil))
	must(t, r.BindExchange("mid", "h", "", nil))
	must(t, r.Bind("src", "q1", "a.*", nil))
	must(t, r.Bind("mid", "q1", "", nil))
	must(t, r.Bind("mid", "q2", "", nil))
	must(t, r.Bind("leaf", "q2", "a.b", nil))
	must(t, r.Bind("leaf", "q3", "a.b", nil))
	must(t, r.Bind("h", "q4", "", frame.Table{"x-match": "any", "c": "1"}))
	must(t, r.Bind("h", "q1", "", frame.Table{"x-match": "any", "c": "1"}))

	calls := 0
	h := func() frame.Table { calls++; return frame.Table{"c": "1"} }
	got := r.Route("src", []byte("a.b"), h, nil)
	slices.Sort(got)
	if !slices.Equal(got, []string{"q1", "q2", "q3", "q4"}) || calls != 1 {
		t.Fatalf("got %q, headers called %d times", got, calls)
	}
	if got := routeSet(r, "src", "z"); !slices.Equal(got, nil) {
		t.Fatalf("got %q", got)
	}
	// Large fan-in through exchanges takes the map-based dedupe.
	must(t, r.AddExchange("big", KindFanout))
	must(t, r.AddExchange("big2", KindFanout))
	must(t, r.BindExchange("big", "big2", "", nil))
	for i := range 100 {
		must(t, r.Bind("big", fmt.Sprint("q", i), "", nil))
		must(t, r.Bind("big2", fmt.Sprint("q", 99-i), "", nil))
	}
	must(t, r.Bind("big2", "extra", "", nil))
	for range 2 { // twice: the pooled seen-set must have been reset
		if got := r.Route("big", nil, nil, nil); len(got) != 101 {
			t.Fatalf("got %d queues", len(got))
		}
	}

	if n := len(r.DestinationBindings("leaf")); n != 3 {
		t.Fatalf("%d bindings to leaf", n)
	}
	must(t, r.UnbindExchange("src", "leaf", "#", nil))
	must(t, r.UnbindExchange("src", "leaf", "#", nil))
	if n := len(r.DestinationBindings("leaf")); n != 2 {
		t.Fatalf("%d bindings to leaf", n)
	}
}

func TestRemoveQueue(t *testing.T) {
	r := New[string]()
	must(t, r.AddExchange("d", KindDirect))
	must(t, r.AddExchange("t", KindTopic))
	must(t, r.AddExchange("h", KindHeaders))
	must(t, r.AddExchange("f", KindFanout))
	must(t, r.Bind("d", "q", "k1", nil))
	must(t, r.Bind("d", "q", "k2", nil))
	must(t, r.Bind("d", "other", "k1", nil))
	must(t, r.Bind("t", "q", "a.#", nil))
	must(t, r.Bind("t", "q", "a.b", nil))
	must(t, r.Bind("h", "q", "", frame.Table{"a": nil}))
	must(t, r.Bind("f", "other", "", nil))
	if n := len(r.QueueBindings("q")); n != 5 {
		t.Fatalf("%d bindings for q", n)
	}
	touched := r.RemoveQueue("q")
	slices.Sort(touched)
	if !slices.Equal(touched, []string{"d", "h", "t"}) {
		t.Fatalf("touched %q", touched)
	}
	if got := routeSet(r, "d", "k1"); !slices.Equal(got, []string{"other"}) {
		t.Fatalf("got %q", got)
	}
	if r.HasBindings("t") || r.HasBindings("h") || !r.HasBindings("d") {
		t.Fatal("HasBindings wrong after RemoveQueue")
	}
	if len(r.QueueBindings("q")) != 0 || r.RemoveQueue("q") != nil {
		t.Fatal("q still indexed")
	}
	if got := r.Route("t", []byte("a.b"), nil, nil); len(got) != 0 {
		t.Fatalf("got %q", got)
	}
}

func TestRemoveExchange(t *testing.T) {
	r := New[string]()
	must(t, r.AddExchange("a", KindFanout))
	must(t, r.AddExchange("b", KindFanout))
	must(t, r.AddExchange("c", KindFanout))
	must(t, r.BindExchange("a", "b", "", nil))
	must(t, r.BindExchange("b", "c", "", nil))
	must(t, r.BindExchange("b", "b", "", nil))
	must(t, r.Bind("b", "qb", "", nil))
	must(t, r.Bind("c", "qc", "", nil))
	if got := routeSet(r, "a", ""); !slices.Equal(got, []string{"qb", "qc"}) {
		t.Fatalf("got %q", got)
	}
	r.RemoveExchange("b")
	r.RemoveExchange("b") // no-op
	if r.HasBindings("a") {
		t.Fatal("a still has its binding to the removed b")
	}
	if got := r.Route("a", nil, nil, nil); len(got) != 0 {
		t.Fatalf("got %q", got)
	}
	if len(r.QueueBindings("qb")) != 0 || len(r.DestinationBindings("c")) != 0 {
		t.Fatal("indexes still mention b")
	}
	// A new exchange with the same name starts empty.
	must(t, r.AddExchange("b", KindDirect))
	if r.HasBindings("b") {
		t.Fatal("recreated exchange inherited bindings")
	}
	if n := len(r.Bindings()); n != 1 {
		t.Fatalf("%d bindings left: %+v", n, r.Bindings())
	}
}

func TestBindingsListing(t *testing.T) {
	r := New[string]()
	must(t, r.AddExchange("x", KindDirect))
	must(t, r.AddExchange("y", KindTopic))
	must(t, r.Bind("y", "q", "b", frame.Table{"k": "v"}))
	must(t, r.Bind("x", "q", "a", nil))
	must(t, r.BindExchange("x", "y", "z", nil))
	got := r.Bindings()
	want := []BindingInfo[string]{
		{Source: "x", DestKind: DestQueue, Queue: "q", Key: "a"},
		{Source: "x", DestKind: DestExchange, Exchange: "y", Key: "z"},
		{Source: "y", DestKind: DestQueue, Queue: "q", Key: "b", Args: frame.Table{"k": "v"}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Source != w.Source || g.DestKind != w.DestKind || g.Queue != w.Queue ||
			g.Exchange != w.Exchange || g.Key != w.Key || !valueEqual(frame.Table(g.Args), frame.Table(w.Args)) {
			t.Errorf("binding %d: got %+v, want %+v", i, g, w)
		}
	}
}

func TestBindCopiesArgs(t *testing.T) {
	r := New[string]()
	must(t, r.AddExchange("h", KindHeaders))
	args := frame.Table{"a": "1"}
	must(t, r.Bind("h", "q", "", args))
	args["a"] = "2"
	if got := r.SourceBindings("h")[0].Args["a"]; got != "1" {
		t.Fatalf("stored args changed to %v", got)
	}
}

func TestCanonArgs(t *testing.T) {
	same := [][2]frame.Table{
		{nil, {}},
		{{"a": "1", "b": int32(2)}, {"b": int32(2), "a": "1"}},
		{{"t": frame.Table{"x": []any{int8(1), nil}}}, {"t": map[string]any{"x": []any{int8(1), nil}}}},
	}
	for _, p := range same {
		if canonArgs(p[0]) != canonArgs(p[1]) {
			t.Errorf("%v and %v differ", p[0], p[1])
		}
	}
	differ := [][2]frame.Table{
		{{"a": int32(1)}, {"a": int64(1)}},
		{{"a": "1"}, {"a": []byte("1")}},
		{{"a": "b1:c"}, {"a": "b", "1:c": nil}},
		{{"a": float32(1)}, {"a": float64(1)}},
		{{"a": nil}, {"a": ""}},
	}
	for _, p := range differ {
		if canonArgs(p[0]) == canonArgs(p[1]) {
			t.Errorf("%v and %v collide: %q", p[0], p[1], canonArgs(p[0]))
		}
	}
}

func TestCowMap(t *testing.T) {
	var m cowMap[int]
	ref := map[string]int{}
	versions := []cowMap[int]{}
	refs := []map[string]int{}
	check := func(m cowMap[int], ref map[string]int) {
		t.Helper()
		if m.len() != len(ref) {
			t.Fatalf("len %d, want %d", m.len(), len(ref))
		}
		n := 0
		m.each(func(k string, v int) {
			n++
			if ref[k] != v {
				t.Fatalf("%q = %d, want %d", k, v, ref[k])
			}
		})
		if n != len(ref) {
			t.Fatalf("each saw %d", n)
		}
		for k, v := range ref {
			if got, ok := m.get([]byte(k)); !ok || got != v {
				t.Fatalf("get %q = %d %v", k, got, ok)
			}
		}
	}
	for i := range 20000 {
		k := fmt.Sprint("k", i%9000)
		if i%3 == 2 {
			m = m.without(fmt.Sprint("k", (i*7)%9000))
			delete(ref, fmt.Sprint("k", (i*7)%9000))
		} else {
			m = m.with(k, i)
			ref[k] = i
		}
		if i%2500 == 0 {
			versions = append(versions, m)
			refs = append(refs, clone(ref))
		}
	}
	check(m, ref)
	if len(m.buckets) < 8 {
		t.Fatalf("never grew: %d buckets", len(m.buckets))
	}
	for i := range versions { // old versions are untouched
		check(versions[i], refs[i])
	}
	for k := range ref {
		m = m.without(k)
	}
	if m.len() != 0 || m.buckets != nil {
		t.Fatalf("not empty: %d", m.len())
	}
}

func clone(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestConcurrent runs writers and readers together; its value is under -race
// and in the invariant checks: a Route never returns duplicates, and a
// binding that exists for the whole run is always routed to.
func TestConcurrent(t *testing.T) {
	r := New[int]()
	kinds := []Kind{KindDirect, KindFanout, KindTopic, KindHeaders}
	for i, k := range kinds {
		must(t, r.AddExchange(fmt.Sprint("e", i), k))
		// permanent binding of queue -1 that every Route below must hit
		must(t, r.Bind(fmt.Sprint("e", i), -1, "a.b", nil))
	}
	must(t, r.BindExchange("e0", "e1", "a.b", nil))
	must(t, r.BindExchange("e1", "e2", "", nil))
	must(t, r.BindExchange("e2", "e3", "#", nil))
	must(t, r.BindExchange("e3", "e0", "", nil))

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				q := w*1000 + i%50
				ex := fmt.Sprint("e", i%4)
				key := []string{"a.b", "a.*", "#", "x"}[i%4]
				switch i % 7 {
				case 0, 1, 2:
					must(t, r.Bind(ex, q, key, nil))
				case 3, 4:
					must(t, r.Unbind(ex, q, key, nil))
				case 5:
					r.RemoveQueue(q)
				case 6:
					_ = r.Bindings()
				}
			}
		})
	}
	wg.Go(func() { // exchange churn takes the exclusive path
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			must(t, r.AddExchange("tmp", KindTopic))
			must(t, r.BindExchange("e0", "tmp", "a.b", nil))
			must(t, r.BindExchange("tmp", "e2", "#", nil))
			must(t, r.Bind("tmp", i, "#", nil))
			r.RemoveExchange("tmp")
		}
	})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			dst := make([]int, 0, 1024)
			for range 3000 {
				for i := range kinds {
					dst = r.Route(fmt.Sprint("e", i), []byte("a.b"), func() frame.Table { return nil }, dst[:0])
					seen := map[int]bool{}
					for _, q := range dst {
						if seen[q] {
							t.Errorf("duplicate %d in %v", q, dst)
							return
						}
						seen[q] = true
					}
					if !seen[-1] {
						t.Errorf("permanent binding missed: %v", dst)
						return
					}
				}
			}
		})
	}
	readers.Wait()
	close(stop)
	wg.Wait()
}

func TestRouteBytes(t *testing.T) {
	r := New[string]()
	must(t, r.AddExchange("amq.topic", KindTopic))
	must(t, r.Bind("amq.topic", "q", "a.*", nil))
	name := []byte("amq.topic")
	if got := r.RouteBytes(name, []byte("a.b"), nil, nil); !slices.Equal(got, []string{"q"}) {
		t.Fatalf("got %q", got)
	}
	if got := r.RouteBytes([]byte("nope"), []byte("a.b"), nil, nil); got != nil {
		t.Fatalf("got %q", got)
	}
	if raceEnabled {
		return
	}
	dst := make([]string, 0, 8)
	if n := testing.AllocsPerRun(100, func() { dst = r.RouteBytes(name, []byte("a.b"), nil, dst[:0]) }); n != 0 {
		t.Fatalf("%v allocs", n)
	}
}

func TestHeadersNilFunc(t *testing.T) {
	r := New[string]()
	must(t, r.AddExchange("h", KindHeaders))
	must(t, r.Bind("h", "all", "", nil))
	must(t, r.Bind("h", "needs-a", "", frame.Table{"a": nil}))
	if got := r.Route("h", nil, nil, nil); !slices.Equal(got, []string{"all"}) {
		t.Fatalf("got %q", got)
	}
}
