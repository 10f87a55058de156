package router

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// refTopicMatch is a direct transcription of the RabbitMQ rules, used as the
// oracle: exponential on '#', fine for tests.
func refTopicMatch(p, k []string) bool {
	if len(p) == 0 {
		return len(k) == 0
	}
	switch p[0] {
	case "#":
		for i := 0; i <= len(k); i++ {
			if refTopicMatch(p[1:], k[i:]) {
				return true
			}
		}
		return false
	case "*":
		return len(k) > 0 && refTopicMatch(p[1:], k[1:])
	default:
		return len(k) > 0 && k[0] == p[0] && refTopicMatch(p[1:], k[1:])
	}
}

var topicKeys = []string{
	"quick.orange.rabbit", "lazy.orange.elephant", "quick.orange.fox", "lazy.brown.fox",
	"lazy.pink.rabbit", "quick.brown.fox", "quick.orange.male.rabbit", "lazy.orange.male.rabbit",
	"lazy", "lazy.", "orange", "", "a..b", ".error", "a.b", "a.x.y.b", "kern.critical", "error",
}

// The expected matches, written out by hand from RabbitMQ's semantics
// (tutorial five plus split_topic_key's empty-word rules).
var topicCases = []struct {
	pattern string
	matches []string
}{
	{"*.orange.*", []string{"quick.orange.rabbit", "lazy.orange.elephant", "quick.orange.fox"}},
	{"*.*.rabbit", []string{"quick.orange.rabbit", "lazy.pink.rabbit"}},
	{"lazy.#", []string{"lazy.orange.elephant", "lazy.brown.fox", "lazy.pink.rabbit", "lazy.orange.male.rabbit", "lazy", "lazy."}},
	{"kern.*", []string{"kern.critical"}},
	{"*.critical", []string{"kern.critical"}},
	{"#", topicKeys},
	{"#.error", []string{".error", "error"}},
	{"a.#.b", []string{"a..b", "a.b", "a.x.y.b"}},
	{"*", []string{"lazy", "orange", "error"}},
	{"a.*.b", []string{"a..b"}},
	// beyond the tutorial
	{"", []string{""}},
	{"#.#.#", topicKeys},
	{"#.*", without(topicKeys, "")},
	{"*.#", without(topicKeys, "")},
	{"lazy.*", []string{"lazy."}},
	{"lazy.", []string{"lazy."}},
	{"*.", []string{"lazy."}},
	{".*", []string{".error"}},
	{"a.#.#.b", []string{"a..b", "a.b", "a.x.y.b"}},
	{"#.b", []string{"a..b", "a.b", "a.x.y.b"}},
	{"#.orange.#", []string{"quick.orange.rabbit", "lazy.orange.elephant", "quick.orange.fox", "quick.orange.male.rabbit", "lazy.orange.male.rabbit", "orange"}},
	{"*.*.*.*", []string{"quick.orange.male.rabbit", "lazy.orange.male.rabbit", "a.x.y.b"}},
	{"a*", nil},
	{"quick.orange.rabbit", []string{"quick.orange.rabbit"}},
}

func without(keys []string, drop string) []string {
	return slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return k == drop })
}

func routeSet(r *Router[string], ex, key string) []string {
	got := r.Route(ex, []byte(key), nil, nil)
	slices.Sort(got)
	return got
}

func TestTopicRabbitMQCases(t *testing.T) {
	// One exchange per pattern checks each pattern alone; "all" holds every
	// pattern at once and checks that bindings do not disturb each other.
	r := New[string]()
	must(t, r.AddExchange("all", KindTopic))
	for _, c := range topicCases {
		must(t, r.AddExchange("x:"+c.pattern, KindTopic))
		must(t, r.Bind("x:"+c.pattern, "q", c.pattern, nil))
		must(t, r.Bind("all", c.pattern, c.pattern, nil))
	}
	for _, c := range topicCases {
		for _, k := range topicKeys {
			want := slices.Contains(c.matches, k)
			if ref := refTopicMatch(topicWords(c.pattern), topicWords(k)); ref != want {
				t.Fatalf("test table disagrees with the oracle: %q vs %q: table %v", c.pattern, k, want)
			}
			got := len(r.Route("x:"+c.pattern, []byte(k), nil, nil)) == 1
			if got != want {
				t.Errorf("pattern %q key %q: matched %v, want %v", c.pattern, k, got, want)
			}
		}
	}
	for _, k := range topicKeys {
		var want []string
		for _, c := range topicCases {
			if slices.Contains(c.matches, k) {
				want = append(want, c.pattern)
			}
		}
		slices.Sort(want)
		if got := routeSet(r, "all", k); !slices.Equal(got, want) {
			t.Errorf("key %q: got %q, want %q", k, got, want)
		}
	}
}

func TestTopicDedupe(t *testing.T) {
	r := New[string]()
	must(t, r.AddExchange("t", KindTopic))
	for _, p := range []string{"#", "a.#", "#.b", "a.b", "*.b", "a.*", "#.#"} {
		must(t, r.Bind("t", "q", p, nil))
	}
	must(t, r.Bind("t", "q2", "a.b", nil))
	if got := routeSet(r, "t", "a.b"); !slices.Equal(got, []string{"q", "q2"}) {
		t.Fatalf("got %q", got)
	}
}

func TestTopicRandomAgainstOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := []string{"a", "b", "c", "", "*", "#"}
	keyVocab := []string{"a", "b", "c", ""}
	gen := func(v []string, max int) string {
		n := rng.IntN(max + 1)
		ws := make([]string, n)
		for i := range ws {
			ws[i] = v[rng.IntN(len(v))]
		}
		return strings.Join(ws, ".")
	}
	r := New[string]()
	must(t, r.AddExchange("t", KindTopic))
	var patterns []string
	for range 300 {
		p := gen(vocab, 5)
		patterns = append(patterns, p)
		must(t, r.Bind("t", p, p, nil))
	}
	// Unbind some again so pruning and id reuse are exercised too.
	live := map[string]bool{}
	for _, p := range patterns {
		live[p] = true
	}
	for _, p := range patterns[:100] {
		must(t, r.Unbind("t", p, p, nil))
		live[p] = false
	}
	for range 3000 {
		k := gen(keyVocab, 6)
		var want []string
		for p, ok := range live {
			if ok && refTopicMatch(topicWords(p), topicWords(k)) {
				want = append(want, p)
			}
		}
		slices.Sort(want)
		if got := routeSet(r, "t", k); !slices.Equal(got, want) {
			t.Fatalf("key %q: got %q, want %q", k, got, want)
		}
	}
}

func TestTopicHashChainStaysLinear(t *testing.T) {
	// 200 '#' words would take astronomically long with backtracking.
	p := strings.Repeat("#.", 200) + "z"
	r := New[string]()
	must(t, r.AddExchange("t", KindTopic))
	must(t, r.Bind("t", "q", p, nil))
	key := strings.Repeat("a.", 120) + "y"
	if got := r.Route("t", []byte(key), nil, nil); len(got) != 0 {
		t.Fatalf("got %q", got)
	}
	if got := r.Route("t", []byte(key+".z"), nil, nil); len(got) != 1 {
		t.Fatalf("got %q", got)
	}
}

func TestTopicPruning(t *testing.T) {
	r := New[string]()
	must(t, r.AddExchange("t", KindTopic))
	for i := range 50 {
		p := strings.Repeat("*.", i%7) + "#.x" + strings.Repeat(".y", i%5)
		must(t, r.Bind("t", "q", p, nil))
		must(t, r.Unbind("t", "q", p, nil))
	}
	x := r.lookup("t")
	if s := x.snap.Load(); s.root != nil || x.keys.len() != 0 {
		t.Fatalf("trie not pruned: %+v", s)
	}
	if n := x.nodeIDs.next - int32(len(x.nodeIDs.free)); n != 0 {
		t.Fatalf("%d node ids leaked", n)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
