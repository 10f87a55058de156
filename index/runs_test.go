package index

import (
	"math/rand/v2"
	"testing"
)

func TestRunsMerge(t *testing.T) {
	var rs runs
	add := func(off, end uint32) bool {
		_, ok := rs.add(run{off: off, end: end, pcount: 1, pbody: 1})
		return ok
	}
	add(10, 20)
	add(30, 40)
	add(20, 30) // bridges both
	if len(rs) != 1 || rs[0] != (run{10, 40, 3, 3}) {
		t.Fatalf("%+v", rs)
	}
	add(50, 60)
	add(40, 50)
	add(0, 10)
	if len(rs) != 1 || rs[0] != (run{0, 60, 6, 6}) {
		t.Fatalf("%+v", rs)
	}
	if add(5, 15) || add(55, 65) || add(0, 10) {
		t.Fatal("overlap accepted")
	}
	if r, ok := rs.find(59); !ok || r.end != 60 {
		t.Fatal("find inside")
	}
	if _, ok := rs.find(60); ok {
		t.Fatal("find past end")
	}
}

// Random order of acks over n equal records ends as one run, with the
// same result as a naive set.
func TestRunsRandomOrder(t *testing.T) {
	const n, sz = 2000, 24
	perm := rand.Perm(n)
	var rs runs
	done := make([]bool, n)
	for k, i := range perm {
		if _, ok := rs.add(run{off: uint32(i * sz), end: uint32(i*sz + sz), pcount: 1}); !ok {
			t.Fatal("rejected")
		}
		done[i] = true
		if k%97 == 0 {
			for j := range n {
				_, ok := rs.find(uint32(j*sz + 3))
				if ok != done[j] {
					t.Fatalf("record %d: find %v, done %v", j, ok, done[j])
				}
			}
		}
	}
	if len(rs) != 1 || rs[0].pcount != n {
		t.Fatalf("%d runs", len(rs))
	}
}
