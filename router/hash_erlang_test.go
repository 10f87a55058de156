package router

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// testdata/erlang_hash_vectors.txt is the output of
// testdata/erlang_hash_vectors.escript under Erlang/OTP 25 (RabbitMQ
// 3.10.8's): erlang:phash2 of binaries, an atom and field-table tuples,
// and the plugin's jump_consistent_hash for them.
func TestErlangHashVectors(t *testing.T) {
	f, err := os.Open("testdata/erlang_hash_vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	num := func(s string) uint32 {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		return uint32(n)
	}
	sc := bufio.NewScanner(f)
	lines := 0
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		lines++
		switch {
		case w[0] == "bin":
			var key []byte
			if l := strings.Trim(w[1], "[]"); l != "" {
				for _, c := range strings.Split(l, ",") {
					key = append(key, byte(num(c)))
				}
			}
			h := Phash2Binary(key)
			if h != num(w[2]) {
				t.Errorf("phash2(%q) = %d, want %d", key, h, num(w[2]))
			}
			if b := erlangJump(h, 8); b != num(w[3]) {
				t.Errorf("jump(%q, 8) = %d, want %d", key, b, num(w[3]))
			}
			if b := erlangJump(h, 30000); b != num(w[4]) {
				t.Errorf("jump(%q, 30000) = %d, want %d", key, b, num(w[4]))
			}
		case w[0] == "atom":
			if h := Phash2Atom(w[1]); h != num(w[2]) {
				t.Errorf("phash2(%s) = %d, want %d", w[1], h, num(w[2]))
			}
			if b := erlangJump(Phash2Atom(w[1]), 8); b != num(w[3]) {
				t.Errorf("jump(%s, 8) = %d, want %d", w[1], b, num(w[3]))
			}
		case w[0] == "tag":
			var h uint32
			switch w[1] {
			case "longstr":
				v := w[2]
				if v == "empty" {
					v = ""
				}
				h = Phash2TaggedBinary("longstr", []byte(v))
			case "signedint", "long":
				n, _ := strconv.ParseInt(w[2], 10, 64)
				h, _ = Phash2TaggedInt(w[1], n)
			case "bool":
				h = Phash2TaggedAtom("bool", w[2])
			}
			if h != num(w[3]) {
				t.Errorf("phash2({%s, %s}) = %d, want %d", w[1], w[2], h, num(w[3]))
			}
		case w[0] == "k":
			key := "key-" + w[1]
			if b := erlangJump(Phash2Binary([]byte(key)), 10); b != num(w[2]) {
				t.Errorf("jump(%s, 10) = %d, want %d", key, b, num(w[2]))
			}
		}
	}
	if lines < 10000 {
		t.Fatalf("%d vector lines", lines)
	}
}
