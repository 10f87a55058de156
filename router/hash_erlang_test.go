package router

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/warrenmq/warren/frame"
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
			var field []byte
			switch w[1] {
			case "longstr":
				v := w[2]
				if v == "empty" {
					v = ""
				}
				field = append(binary.BigEndian.AppendUint32([]byte{'S'}, uint32(len(v))), v...)
			case "signedint":
				n, _ := strconv.ParseInt(w[2], 10, 32)
				field = binary.BigEndian.AppendUint32([]byte{'I'}, uint32(n))
			case "long":
				n, _ := strconv.ParseInt(w[2], 10, 64)
				field = binary.BigEndian.AppendUint64([]byte{'l'}, uint64(n))
			case "bool":
				field = []byte{'t', 0}
				if w[2] == "true" {
					field[1] = 1
				}
			}
			if h := Phash2Field(field[0], field[1:]); h != num(w[3]) {
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

// testdata/erlang_field_vectors.txt is the output of
// testdata/erlang_field_vectors.escript under Erlang/OTP 25 with RabbitMQ
// 3.10.8's rabbit_common: a header table of one entry "h" as
// rabbit_binary_generator encodes it (in hex), erlang:phash2 of the
// {Type, Value} rabbit_binary_parser decodes it to, and the plugin's jump
// of that into 20 and 30000 buckets. It covers every field type: integers
// on both sides of make_hash2's 28-bit small-integer limit and up to 64
// bits (bignums), floats (float32 and double, -0.0), decimals, nested
// tables and arrays.
func TestErlangFieldVectors(t *testing.T) {
	f, err := os.Open("testdata/erlang_field_vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	lines := 0
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		if len(w) != 5 || w[0] != "field" {
			t.Fatalf("bad vector line %q", sc.Text())
		}
		lines++
		b, err := hex.DecodeString(w[1])
		if err != nil || len(b) < 3 || b[0] != 1 || b[1] != 'h' {
			t.Fatalf("bad table %s: %v", w[1], err)
		}
		want := make([]uint32, 3)
		for i := range want {
			n, err := strconv.ParseUint(w[2+i], 10, 32)
			if err != nil {
				t.Fatal(err)
			}
			want[i] = uint32(n)
		}
		h := Phash2Field(b[2], b[3:])
		if h != want[0] {
			t.Errorf("phash2 of field %s = %d, want %d", w[1], h, want[0])
			continue
		}
		if j := erlangJump(h, 20); j != want[1] {
			t.Errorf("jump(field %s, 20) = %d, want %d", w[1], j, want[1])
		}
		if j := erlangJump(h, 30000); j != want[2] {
			t.Errorf("jump(field %s, 30000) = %d, want %d", w[1], j, want[2])
		}
	}
	if lines < 90 {
		t.Fatalf("%d vector lines", lines)
	}
}

// A malformed field (the frame layer lets none through) ends the walk
// without a panic.
func TestPhash2FieldMalformed(t *testing.T) {
	for _, b := range [][]byte{
		{'S'}, {'S', 0, 0, 0, 9, 'a'}, {'F', 0, 0, 0, 3, 5, 'a'}, {'A', 0, 0, 0, 2, 'I', 0},
		{'?'}, {'F', 0, 0, 0, 1, 0}, {'A', 0, 0, 0, 1, 'Z'}, {'d', 1, 2},
	} {
		_ = Phash2Field(b[0], b[1:])
	}
}

// BenchmarkPhash2Field hashes a nested header (a table holding an array,
// a double and a bignum) as the consistent-hash exchange does for a
// hash-header: 0 allocs/op.
func BenchmarkPhash2Field(b *testing.B) {
	v, err := frame.AppendTable(nil, frame.Table{
		"tenant": "acme", "n": int64(1) << 40, "w": 2.5,
		"path": []any{"a", int32(7), frame.Table{"k": uint8(9)}},
	})
	if err != nil {
		b.Fatal(err)
	}
	if Phash2Field('F', v) == Phash2Field('F', v[:4]) {
		b.Fatal("the table hashes as an empty one")
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = Phash2Field('F', v)
	}
}
