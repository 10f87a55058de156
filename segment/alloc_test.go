package segment

import "testing"

func TestZeroAllocAppendRead(t *testing.T) {
	s := NewSyncer()
	defer s.Close()
	for _, o := range []Options{{}, {Durable: true, Syncer: s}} {
		l, _ := openLog(t, t.TempDir(), o)
		r := testRecord(1, body(1, 100))
		var p Pos
		var err error
		for range 100 { // warm up: first segment, syncer lists
			p, _, _, err = l.Append(r)
		}
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(5000, func() { p, _, _, _ = l.Append(r) }); n != 0 {
			t.Errorf("durable=%v: Append allocates %v per record", o.Durable, n)
		}
		if n := testing.AllocsPerRun(5000, func() { _, _, _ = l.Read(p) }); n != 0 {
			t.Errorf("durable=%v: Read allocates %v per record", o.Durable, n)
		}
		q := Pos{}
		if n := testing.AllocsPerRun(5000, func() {
			q2, _, sz, _ := l.Next(q)
			q = Pos{q2.Seg, q2.Off + sz}
		}); n != 0 {
			t.Errorf("durable=%v: Next allocates %v per record", o.Durable, n)
		}
	}
}
