package router

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/warrenmq/warren/frame"
)

// Fixtures shared by the benchmarks and the allocation test. Queues are
// ints standing in for the broker's *Queue (both are one-word values).

type fixture struct {
	r        *Router[int]
	exchange string
	keys     [][]byte
	headers  func() frame.Table
}

func directFixture() fixture {
	r := New[int]()
	_ = r.AddExchange("d", KindDirect)
	keys := make([][]byte, 1000)
	for i := range keys {
		k := fmt.Sprintf("queue.%d", i)
		_ = r.Bind("d", i, k, nil)
		keys[i] = []byte(k)
	}
	return fixture{r: r, exchange: "d", keys: keys}
}

func fanoutFixture() fixture {
	r := New[int]()
	_ = r.AddExchange("f", KindFanout)
	for i := range 10 {
		_ = r.Bind("f", i, "", nil)
	}
	return fixture{r: r, exchange: "f", keys: [][]byte{[]byte("any")}}
}

const topicLevels = 8

// topicShape sets how wildcard-heavy generated binding keys are.
type topicShape struct {
	vocab    int // distinct literal words per level
	star     int // percent of words that are '*'
	hash     int // percent of words that are '#'
	trailing int // percent of keys that get a trailing ".#"
}

var (
	// Realistic: mostly literal keys with some wildcards, few matches per
	// message (routing keys like "region.service.host...").
	topicSparse = topicShape{vocab: 20, star: 10, hash: 2, trailing: 20}
	// Stress: wildcard-heavy keys over a tiny vocabulary; ~50 NFA states
	// stay active per word and a message matches ~1% of all bindings.
	topicDense = topicShape{vocab: 5, star: 15, hash: 5, trailing: 30}
)

// topicPatterns returns n binding keys of 2..8 words.
func topicPatterns(rng *rand.Rand, n int, sh topicShape) []string {
	out := make([]string, n)
	for i := range out {
		l := 2 + rng.IntN(topicLevels-1)
		ws := make([]string, 0, l+1)
		for lvl := range l {
			switch p := rng.IntN(100); {
			case p < sh.star:
				ws = append(ws, "*")
			case p < sh.star+sh.hash:
				ws = append(ws, "#")
			default:
				ws = append(ws, fmt.Sprintf("l%dw%d", lvl, rng.IntN(sh.vocab)))
			}
		}
		if rng.IntN(100) < sh.trailing {
			ws = append(ws, "#")
		}
		out[i] = strings.Join(ws, ".")
	}
	return out
}

// topicKeysFor returns n routing keys of 8 words.
func topicKeysFor(rng *rand.Rand, n int, sh topicShape) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		ws := make([]string, topicLevels)
		for lvl := range ws {
			ws[lvl] = fmt.Sprintf("l%dw%d", lvl, rng.IntN(sh.vocab))
		}
		keys[i] = []byte(strings.Join(ws, "."))
	}
	return keys
}

func topicFixture(bindings int, sh topicShape) fixture {
	rng := rand.New(rand.NewPCG(7, 7))
	r := New[int]()
	_ = r.AddExchange("t", KindTopic)
	for i, p := range topicPatterns(rng, bindings, sh) {
		_ = r.Bind("t", i%(bindings/4+1), p, nil) // several patterns per queue: exercises dedupe
	}
	return fixture{r: r, exchange: "t", keys: topicKeysFor(rng, 1024, sh)}
}

// topicExactFixture: 10k wildcard-free keys, the exact-match hash only.
func topicExactFixture() fixture {
	rng := rand.New(rand.NewPCG(8, 8))
	r := New[int]()
	_ = r.AddExchange("t", KindTopic)
	keys := topicKeysFor(rng, 10000, topicSparse)
	for i, k := range keys {
		_ = r.Bind("t", i, string(k), nil)
	}
	return fixture{r: r, exchange: "t", keys: keys[:1024]}
}

func headersFixture() fixture {
	r := New[int]()
	_ = r.AddExchange("h", KindHeaders)
	formats := []string{"pdf", "zip", "txt", "csv"}
	for i := range 100 {
		args := frame.Table{"format": formats[i%4], "size": int32(i % 10)}
		if i%3 == 0 {
			args["x-match"] = "any"
		}
		_ = r.Bind("h", i, "", args)
	}
	h := frame.Table{"format": "pdf", "size": int64(4), "user": "bob", "x-retry": int32(0), "lang": "en"}
	return fixture{r: r, exchange: "h", keys: [][]byte{nil}, headers: func() frame.Table { return h }}
}

// e2eFixture: topic → fanout → direct, with overlapping queues.
func e2eFixture() fixture {
	r := New[int]()
	_ = r.AddExchange("t", KindTopic)
	_ = r.AddExchange("f", KindFanout)
	_ = r.AddExchange("d", KindDirect)
	_ = r.BindExchange("t", "f", "a.#", nil)
	_ = r.BindExchange("f", "d", "", nil)
	_ = r.BindExchange("d", "t", "a.b", nil) // cycle
	for i := range 10 {
		_ = r.Bind("t", i, "*.b", nil)
		_ = r.Bind("f", i+5, "", nil)
		_ = r.Bind("d", i+10, "a.b", nil)
	}
	return fixture{r: r, exchange: "t", keys: [][]byte{[]byte("a.b")}}
}

var fixtures = []struct {
	name string
	make func() fixture
}{
	{"Direct1k", directFixture},
	{"Fanout10", fanoutFixture},
	{"Topic100", func() fixture { return topicFixture(100, topicSparse) }},
	{"Topic10k", func() fixture { return topicFixture(10000, topicSparse) }},
	{"Topic10kDense", func() fixture { return topicFixture(10000, topicDense) }},
	{"TopicExact10k", topicExactFixture},
	{"Headers100", headersFixture},
	{"E2E", e2eFixture},
}

func TestRouteAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 10k-binding fixtures")
	}
	if raceEnabled {
		t.Skip("sync.Pool drops items on purpose under -race")
	}
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			fx := f.make()
			dst := make([]int, 0, 4096)
			i := 0
			fx.r.Route(fx.exchange, fx.keys[0], fx.headers, dst) // warm the pool
			allocs := testing.AllocsPerRun(1000, func() {
				dst = fx.r.Route(fx.exchange, fx.keys[i%len(fx.keys)], fx.headers, dst[:0])
				i++
			})
			if allocs != 0 {
				t.Fatalf("%v allocs per Route", allocs)
			}
		})
	}
}

func BenchmarkRoute(b *testing.B) {
	for _, f := range fixtures {
		b.Run(f.name, func(b *testing.B) {
			fx := f.make()
			dst := make([]int, 0, 4096)
			matched := 0
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				dst = fx.r.Route(fx.exchange, fx.keys[i%len(fx.keys)], fx.headers, dst[:0])
				matched += len(dst)
				i++
			}
			b.ReportMetric(float64(matched)/float64(i), "queues/op")
		})
	}
}

func BenchmarkRouteParallel(b *testing.B) {
	for _, f := range fixtures {
		b.Run(f.name, func(b *testing.B) {
			fx := f.make()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				dst := make([]int, 0, 4096)
				i := 0
				for pb.Next() {
					dst = fx.r.Route(fx.exchange, fx.keys[i%len(fx.keys)], fx.headers, dst[:0])
					i++
				}
			})
		})
	}
}

// BenchmarkBind measures one bind+unbind pair on an exchange that already
// holds 10k bindings: the cost of copy-on-write with structural sharing.
func BenchmarkBind(b *testing.B) {
	b.Run("Topic10k", func(b *testing.B) {
		fx := topicFixture(10000, topicSparse)
		pats := topicPatterns(rand.New(rand.NewPCG(9, 9)), 1024, topicSparse)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			p := pats[i%len(pats)]
			_ = fx.r.Bind("t", -1, p, nil)
			_ = fx.r.Unbind("t", -1, p, nil)
			i++
		}
	})
	b.Run("Direct10k", func(b *testing.B) {
		r := New[int]()
		_ = r.AddExchange("d", KindDirect)
		for i := range 10000 {
			_ = r.Bind("d", i, fmt.Sprint("k", i), nil)
		}
		b.ReportAllocs()
		for b.Loop() {
			_ = r.Bind("d", -1, "new", nil)
			_ = r.Unbind("d", -1, "new", nil)
		}
	})
	b.Run("Fanout1k", func(b *testing.B) {
		r := New[int]()
		_ = r.AddExchange("f", KindFanout)
		for i := range 1000 {
			_ = r.Bind("f", i, "", nil)
		}
		b.ReportAllocs()
		for b.Loop() {
			_ = r.Bind("f", -1, "", nil)
			_ = r.Unbind("f", -1, "", nil)
		}
	})
}

// BenchmarkBindFill binds 10k topic keys into an empty exchange (per op).
func BenchmarkBindFill(b *testing.B) {
	pats := topicPatterns(rand.New(rand.NewPCG(3, 3)), 10000, topicSparse)
	b.ReportAllocs()
	for b.Loop() {
		r := New[int]()
		_ = r.AddExchange("t", KindTopic)
		for i, p := range pats {
			_ = r.Bind("t", i, p, nil)
		}
	}
}
