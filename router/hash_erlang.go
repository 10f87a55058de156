package router

// The hash of RabbitMQ 3.10's rabbitmq_consistent_hash_exchange, bit for
// bit, so a key lands in the same bucket as there: the plugin takes
// erlang:phash2 of the value (make_hash2 in erts/emulator/beam/utils.c,
// Bob Jenkins' lookup2 for binaries), seeds rand's exs1024 with it
// ({H, H, H}) and runs Lamping and Veach's jump with rand:uniform_s as its
// random numbers. Nothing here allocates.

import (
	"encoding/binary"
	"math"

	"github.com/warrenmq/warren/frame"
)

const (
	// make_hash2's HCONST (the golden ratio) and the multiples of it
	// (mod 2^32) it mixes each kind of term with: HCONST_n is hconst*n.
	hconst   uint32 = 0x9e3779b9 // small integers
	hconst2  uint32 = 0x3c6ef372 // [] after something
	hconst3  uint32 = 0xdaa66d2b // atoms after something
	hconst9  uint32 = 0x8ff34781 // tuple arities
	hconst10 uint32 = 0x2e2ac13a // negative bignums
	hconst11 uint32 = 0xcc623af3 // positive bignums
	hconst12 uint32 = 0x6a99b4ac // floats
	hconst13 uint32 = 0x08d12e65 // binaries

	nilDef     uint32 = 0x02       // erl_term.h's NIL_DEF
	nilAlone   uint32 = 3468870702 // make_hash2([]) itself
	phash2Mask        = 1<<27 - 1  // erlang:phash2/1's range
)

// mix is lookup2's mix (make_hash2's MIX).
func mix(a, b, c uint32) (uint32, uint32, uint32) {
	a = (a - b - c) ^ c>>13
	b = (b - c - a) ^ a<<8
	c = (c - a - b) ^ b>>13
	a = (a - b - c) ^ c>>12
	b = (b - c - a) ^ a<<16
	c = (c - a - b) ^ b>>5
	a = (a - b - c) ^ c>>3
	b = (b - c - a) ^ a<<10
	c = (c - a - b) ^ b>>15
	return a, b, c
}

func le32(k []byte) uint32 {
	return uint32(k[0]) | uint32(k[1])<<8 | uint32(k[2])<<16 | uint32(k[3])<<24
}

// blockHash is make_hash2's block_hash.
func blockHash(k []byte, initval uint32) uint32 {
	a, b, c, length := hconst, hconst, initval, uint32(len(k))
	for len(k) >= 12 {
		a, b, c = mix(a+le32(k), b+le32(k[4:]), c+le32(k[8:]))
		k = k[12:]
	}
	// The last 0-11 bytes, little-endian into a and b and into c above
	// its low byte (which takes the length), as the C switch adds them.
	var t [12]byte
	copy(t[:], k)
	_, _, c = mix(a+le32(t[:]), b+le32(t[4:]), c+length+le32(t[8:])<<8)
	return c
}

// hash2Binary is make_hash2's step for a binary, given the hash so far.
func hash2Binary(hash uint32, b []byte) uint32 {
	con := hconst13 + hash
	if len(b) == 0 {
		return con
	}
	return blockHash(b, con)
}

// hash2Pair is UINT32_HASH_2: two 32-bit words mixed into the hash.
func hash2Pair(hash, x, y, aconst uint32) uint32 {
	_, _, hash = mix(aconst+x, aconst+y, hash)
	return hash
}

// hash2Uint32 is UINT32_HASH.
func hash2Uint32(hash, v, aconst uint32) uint32 { return hash2Pair(hash, v, 0, aconst) }

// atomHash is the atom table's hash of an atom's name (hashpjw), for
// latin-1 names.
func atomHash(name string) uint32 {
	var h uint32
	for i := 0; i < len(name); i++ {
		h = h<<4 + uint32(name[i])
		if g := h & 0xf0000000; g != 0 {
			h ^= g >> 24
			h ^= g
		}
	}
	return h
}

// hash2Atom is make_hash2's step for an atom whose atomHash is ah.
func hash2Atom(hash, ah uint32) uint32 {
	if hash == 0 {
		return ah
	}
	return hash2Uint32(hash, ah, hconst3)
}

// hash2Nil is make_hash2's step for [], the end of every list.
func hash2Nil(hash uint32) uint32 {
	if hash == 0 {
		return nilAlone
	}
	return hash2Uint32(hash, nilDef, hconst2)
}

// hash2Int is make_hash2's step for the integer whose sign is neg and
// magnitude abs: a small integer of at most 28 bits by its 32-bit value
// (a negative one mixed twice, as the C does), a larger one as a bignum
// of one 64-bit digit, low word first.
func hash2Int(hash uint32, neg bool, abs uint64) uint32 {
	if abs < 1<<27 || neg && abs == 1<<27 {
		y := uint32(abs)
		if neg {
			hash = hash2Uint32(hash, y, hconst) // -y of the negative
			y = -y
		}
		return hash2Uint32(hash, y, hconst)
	}
	con := hconst11
	if neg {
		con = hconst10
	}
	return hash2Pair(hash, uint32(abs), uint32(abs>>32), con)
}

// hash2Signed and hash2Unsigned are hash2Int for a two's complement and
// an unsigned 64-bit integer.
func hash2Signed(hash uint32, x int64) uint32 {
	if x < 0 {
		return hash2Int(hash, true, -uint64(x))
	}
	return hash2Int(hash, false, uint64(x))
}

func hash2Unsigned(hash uint32, x uint64) uint32 { return hash2Int(hash, false, x) }

// hash2Float is make_hash2's step for a float (-0.0 hashes as 0.0): its
// IEEE 754 bits, high word first.
func hash2Float(hash uint32, f float64) uint32 {
	if f == 0 {
		f = 0
	}
	bits := math.Float64bits(f)
	return hash2Pair(hash, uint32(bits>>32), uint32(bits), hconst12)
}

// Phash2Binary is erlang:phash2(B) for a binary B.
func Phash2Binary(b []byte) uint32 { return hash2Binary(0, b) & phash2Mask }

// Phash2Atom is erlang:phash2(A) for an atom A (its name in latin-1).
func Phash2Atom(name string) uint32 { return atomHash(name) & phash2Mask }

// Phash2Field is erlang:phash2({Type, Value}) for the term RabbitMQ 3.10's
// rabbit_binary_parser makes of a field-table value, as
// rabbit_misc:table_lookup hands a header to the plugin: tag is the
// value's type tag and v its bytes after the tag, well formed (as
// frame.PropsHeaderField gives them). Every type is hashed as Erlang
// hashes its term: integers as small integers or bignums, floats as
// doubles, a decimal as {Scale, Value}, a table as the list of its
// {Name, Type, Value} and an array as the list of its {Type, Value}.
func Phash2Field(tag byte, v []byte) uint32 {
	h, _ := hash2Typed(hash2Uint32(0, 2, hconst9), tag, v)
	return h & phash2Mask
}

// fieldTypes are the atoms rabbit_binary_parser names the field types
// with, by tag ('L' is its other long).
var fieldTypes = [256]string{
	'S': "longstr", 'T': "timestamp", 'b': "byte", 'B': "unsignedbyte",
	's': "short", 'u': "unsignedshort", 'I': "signedint", 'i': "unsignedint",
	'd': "double", 'f': "float", 'l': "long", 'L': "long", 't': "bool",
	'D': "decimal", 'F': "table", 'A': "array", 'x': "binary", 'V': "void",
}

// fieldTypeHash is atomHash of each fieldTypes name.
var fieldTypeHash = func() (h [256]uint32) {
	for i, n := range fieldTypes {
		h[i] = atomHash(n)
	}
	return h
}()

var (
	atomTrue      = atomHash("true")
	atomFalse     = atomHash("false")
	atomUndefined = atomHash("undefined")
)

// hash2Typed folds Type and Value of a {Type, Value} or {Name, Type,
// Value} tuple into hash, for the value of type tag that starts v, and
// returns the bytes after it. Malformed bytes (not expected: the frame
// layer checked them) end the walk early rather than panic.
func hash2Typed(hash uint32, tag byte, v []byte) (uint32, []byte) {
	hash = hash2Atom(hash, fieldTypeHash[tag])
	n := fieldSize(tag, v)
	if n < 0 || n > len(v) {
		return hash, nil
	}
	rest := v[n:]
	v = v[:n]
	switch tag {
	case 'S', 'x':
		return hash2Binary(hash, v[4:]), rest
	case 't':
		if v[0] != 0 {
			return hash2Atom(hash, atomTrue), rest
		}
		return hash2Atom(hash, atomFalse), rest
	case 'V':
		return hash2Atom(hash, atomUndefined), rest
	case 'b':
		return hash2Signed(hash, int64(int8(v[0]))), rest
	case 'B':
		return hash2Unsigned(hash, uint64(v[0])), rest
	case 's':
		return hash2Signed(hash, int64(int16(be.Uint16(v)))), rest
	case 'u':
		return hash2Unsigned(hash, uint64(be.Uint16(v))), rest
	case 'I':
		return hash2Signed(hash, int64(int32(be.Uint32(v)))), rest
	case 'i':
		return hash2Unsigned(hash, uint64(be.Uint32(v))), rest
	case 'l', 'L':
		return hash2Signed(hash, int64(be.Uint64(v))), rest
	case 'T':
		return hash2Unsigned(hash, be.Uint64(v)), rest
	case 'f':
		return hash2Float(hash, float64(math.Float32frombits(be.Uint32(v)))), rest
	case 'd':
		return hash2Float(hash, math.Float64frombits(be.Uint64(v))), rest
	case 'D': // {Scale, Value}, both unsigned
		hash = hash2Uint32(hash, 2, hconst9)
		hash = hash2Unsigned(hash, uint64(v[0]))
		return hash2Unsigned(hash, uint64(be.Uint32(v[1:]))), rest
	case 'F': // [{Name, Type, Value}, ...]
		for b := v[4:]; len(b) > 0; {
			k := int(b[0])
			if len(b) < 2+k {
				break
			}
			hash = hash2Uint32(hash, 3, hconst9)
			hash = hash2Binary(hash, b[1:1+k])
			hash, b = hash2Typed(hash, b[1+k], b[2+k:])
		}
		return hash2Nil(hash), rest
	case 'A': // [{Type, Value}, ...]
		for b := v[4:]; len(b) > 0; {
			hash = hash2Uint32(hash, 2, hconst9)
			hash, b = hash2Typed(hash, b[0], b[1:])
		}
		return hash2Nil(hash), rest
	}
	return hash, nil
}

// fieldSize is the size of the value of type tag at the start of v, or
// -1 for an unknown tag or a length prefix that does not fit.
func fieldSize(tag byte, v []byte) int {
	if n := frame.ScalarSize(tag); n >= 0 {
		return n
	}
	switch tag {
	case 'L': // RabbitMQ's unsigned 64-bit; frame's tables do not take it
		return 8
	case 'S', 'x', 'F', 'A':
		if len(v) < 4 {
			return -1
		}
		return 4 + int(be.Uint32(v))
	}
	return -1
}

var be = binary.BigEndian

// exs1024 is rand's exs1024 state: the list L and the reversed list RL of
// the Erlang code, in fixed arrays.
type exs1024 struct {
	l  [16]uint64 // L is l[h:]
	h  int
	rl [16]uint64 // RL reversed: rl[0] was pushed first
	n  int
}

func exs64Next(r uint64) (uint64, uint64) {
	r ^= r >> 12
	r ^= r << 25
	r ^= r >> 27
	return r * 2685821657736338717, r
}

// seedExs1024 is rand:seed_s(exs1024, {A, A, A}).
func seedExs1024(s *exs1024, a uint64) {
	const m21 = 1<<21 - 1
	b1 := (a&m21 + 1) * 2097131 & m21
	b2 := (a&m21 + 1) * 2097133 & m21
	b3 := (a&m21 + 1) * 2097143 & m21
	r := b1<<43 | b2<<22 | b3<<1 | 1
	*s = exs1024{}
	// exs1024_gen1024 prepends: the last value made is the head of L.
	for i := 15; i >= 0; i-- {
		s.l[i], r = exs64Next(r)
	}
}

// next is exs1024_next.
func (s *exs1024) next() uint64 {
	if 16-s.h == 1 {
		hd := s.l[15]
		s.l[0] = hd
		copy(s.l[1:], s.rl[:s.n])
		s.h, s.n = 0, 0
	}
	s0, s1 := s.l[s.h], s.l[s.h+1]
	s11 := s1 ^ s1<<31
	s12 := s11 ^ s11>>11
	s01 := s0 ^ s0>>30
	ns1 := s01 ^ s12
	s.h++
	s.l[s.h] = ns1
	s.rl[s.n] = s0
	s.n++
	return ns1 * 1181783497276652981
}

// uniform is rand:uniform_s for exs1024 (max 2^64-1): V / 2^64.
func (s *exs1024) uniform() float64 {
	return float64(s.next()) / 18446744073709551616.0
}

// erlangJump is the plugin's jump_consistent_hash for an integer key.
func erlangJump(key uint32, buckets uint32) uint32 {
	if buckets <= 1 {
		return 0
	}
	var s exs1024
	seedExs1024(&s, uint64(key))
	b, j := int64(-1), int64(0)
	for j < int64(buckets) {
		b = j
		r := s.uniform()
		if r == 0 { // Erlang fails with badarith; the last bucket is as good
			return buckets - 1
		}
		f := float64(b+1) / r
		if f >= float64(buckets) {
			break
		}
		j = int64(f)
	}
	return uint32(b)
}
