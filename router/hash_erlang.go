package router

// The hash of RabbitMQ 3.10's rabbitmq_consistent_hash_exchange, bit for
// bit, so a key lands in the same bucket as there: the plugin takes
// erlang:phash2 of the value (make_hash2 in erts/emulator/beam/utils.c,
// Bob Jenkins' lookup2 for binaries), seeds rand's exs1024 with it
// ({H, H, H}) and runs Lamping and Veach's jump with rand:uniform_s as its
// random numbers. Nothing here allocates.

const (
	hconst   uint32 = 0x9e3779b9 // the golden ratio, make_hash2's HCONST
	hconst3  uint32 = 0xdaa66d2b // HCONST * 3 mod 2^32, and so on
	hconst9  uint32 = 0x8ff34781
	hconst13 uint32 = 0x08d12e65

	phash2Mask = 1<<27 - 1 // erlang:phash2/1's range
)

func mix(a, b, c uint32) (uint32, uint32, uint32) {
	a -= b
	a -= c
	a ^= c >> 13
	b -= c
	b -= a
	b ^= a << 8
	c -= a
	c -= b
	c ^= b >> 13
	a -= b
	a -= c
	a ^= c >> 12
	b -= c
	b -= a
	b ^= a << 16
	c -= a
	c -= b
	c ^= b >> 5
	a -= b
	a -= c
	a ^= c >> 3
	b -= c
	b -= a
	b ^= a << 10
	c -= a
	c -= b
	c ^= b >> 15
	return a, b, c
}

func le32(k []byte) uint32 {
	return uint32(k[0]) | uint32(k[1])<<8 | uint32(k[2])<<16 | uint32(k[3])<<24
}

// blockHash is make_hash2's block_hash.
func blockHash(k []byte, initval uint32) uint32 {
	a, b, c := hconst, hconst, initval
	length := uint32(len(k))
	for len(k) >= 12 {
		a += le32(k)
		b += le32(k[4:])
		c += le32(k[8:])
		a, b, c = mix(a, b, c)
		k = k[12:]
	}
	c += length
	switch len(k) { // the cases fall through, as in C
	case 11:
		c += uint32(k[10]) << 24
		fallthrough
	case 10:
		c += uint32(k[9]) << 16
		fallthrough
	case 9:
		c += uint32(k[8]) << 8
		fallthrough
	case 8:
		b += uint32(k[7]) << 24
		fallthrough
	case 7:
		b += uint32(k[6]) << 16
		fallthrough
	case 6:
		b += uint32(k[5]) << 8
		fallthrough
	case 5:
		b += uint32(k[4])
		fallthrough
	case 4:
		a += uint32(k[3]) << 24
		fallthrough
	case 3:
		a += uint32(k[2]) << 16
		fallthrough
	case 2:
		a += uint32(k[1]) << 8
		fallthrough
	case 1:
		a += uint32(k[0])
	}
	_, _, c = mix(a, b, c)
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

func hash2Uint32(hash, v, aconst uint32) uint32 {
	_, _, hash = mix(aconst+v, aconst, hash)
	return hash
}

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

// hash2Atom is make_hash2's step for an atom.
func hash2Atom(hash uint32, name string) uint32 {
	if hash == 0 {
		return atomHash(name)
	}
	return hash2Uint32(hash, atomHash(name), hconst3)
}

// hash2Small is make_hash2's step for an integer of at most 28 bits.
func hash2Small(hash uint32, x int64) uint32 {
	y := int32(x)
	if y < 0 {
		hash = hash2Uint32(hash, uint32(-y), hconst)
	}
	return hash2Uint32(hash, uint32(y), hconst)
}

// fitsSmall28 says whether x takes make_hash2's small-integer path.
func fitsSmall28(x int64) bool { return uint64((x>>27)+1) < 2 }

// Phash2Binary is erlang:phash2(B) for a binary B.
func Phash2Binary(b []byte) uint32 { return hash2Binary(0, b) & phash2Mask }

// Phash2Atom is erlang:phash2(A) for an atom A (its name in latin-1).
func Phash2Atom(name string) uint32 { return atomHash(name) & phash2Mask }

// Phash2TaggedBinary is erlang:phash2({Tag, B}) for an atom Tag and a
// binary B: a RabbitMQ field table value such as {longstr, <<"v">>}.
func Phash2TaggedBinary(tag string, b []byte) uint32 {
	h := hash2Uint32(0, 2, hconst9) // the tuple's arity
	h = hash2Atom(h, tag)
	return hash2Binary(h, b) & phash2Mask
}

// Phash2TaggedInt is erlang:phash2({Tag, N}) for an atom Tag and an
// integer N; ok is false when N is too large for the small-integer path
// (Erlang hashes it as a bignum, which this does not do).
func Phash2TaggedInt(tag string, n int64) (uint32, bool) {
	if !fitsSmall28(n) {
		return 0, false
	}
	h := hash2Uint32(0, 2, hconst9)
	h = hash2Atom(h, tag)
	return hash2Small(h, n) & phash2Mask, true
}

// Phash2TaggedAtom is erlang:phash2({Tag, A}) for atoms Tag and A, such
// as {bool, true}.
func Phash2TaggedAtom(tag, a string) uint32 {
	h := hash2Uint32(0, 2, hconst9)
	h = hash2Atom(h, tag)
	return hash2Atom(h, a) & phash2Mask
}

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
