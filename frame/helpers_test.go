package frame

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"
)

// newRand returns a seeded generator and logs the seed, so a failure can
// be replayed by pinning it.
func newRand(t testing.TB) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

func randString(r *rand.Rand, maxLen int) string {
	b := make([]byte, r.IntN(maxLen+1))
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return string(b)
}

// randUTF8 returns a random valid UTF-8 string of at most maxLen bytes.
func randUTF8(r *rand.Rand, maxLen int) string {
	n := r.IntN(maxLen + 1)
	b := make([]byte, 0, n)
	for {
		c := rune(r.IntN(0x10000))
		if c >= 0xD800 && c < 0xE000 {
			continue // surrogates are not UTF-8
		}
		if len(b)+utf8.RuneLen(c) > n {
			return string(b)
		}
		b = utf8.AppendRune(b, c)
	}
}

// randValue returns a random field value of a type DecodeTable produces,
// so that a round trip is DeepEqual.
func randValue(r *rand.Rand, depth int) any {
	n := 16
	if depth > 3 {
		n = 14 // no more containers
	}
	switch r.IntN(n) {
	case 0:
		return r.IntN(2) == 1
	case 1:
		return int8(r.Uint32())
	case 2:
		return uint8(r.Uint32())
	case 3:
		return int16(r.Uint32())
	case 4:
		return uint16(r.Uint32())
	case 5:
		return int32(r.Uint32())
	case 6:
		return r.Uint32()
	case 7:
		return int64(r.Uint64())
	case 8:
		return r.Float32()
	case 9:
		return r.NormFloat64()
	case 10:
		return Decimal{Scale: uint8(r.Uint32()), Value: int32(r.Uint32())}
	case 11:
		return randString(r, 40)
	case 12:
		return []byte(randString(r, 40))
	case 13:
		if r.IntN(2) == 0 {
			return nil
		}
		return time.Unix(r.Int64N(1<<40)-1<<39, 0).UTC()
	case 14:
		a := []any{}
		for range r.IntN(4) {
			a = append(a, randValue(r, depth+1))
		}
		return a
	default:
		return randTable(r, depth+1)
	}
}

// randTable returns nil or a non-empty table: an empty table decodes as nil.
func randTable(r *rand.Rand, depth int) Table {
	n := r.IntN(5)
	if n == 0 {
		return nil
	}
	t := Table{}
	for range n {
		t[randString(r, 20)] = randValue(r, depth)
	}
	return t
}

// fillRandom sets every field of the method m. Strings of methods without
// content are UTF-8, as their decoders require of shortstrs.
func fillRandom(r *rand.Rand, m Method) {
	str := randString
	if !m.HasContent() {
		str = randUTF8
	}
	rv := reflect.ValueOf(m).Elem()
	for i := range rv.NumField() {
		f := rv.Field(i)
		switch f.Kind() {
		case reflect.Bool:
			f.SetBool(r.IntN(2) == 1)
		case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			f.SetUint(r.Uint64())
		case reflect.String:
			f.SetString(str(r, 255))
		case reflect.Map:
			f.Set(reflect.ValueOf(randTable(r, 0)))
		default:
			panic("fillRandom: unhandled kind " + f.Kind().String())
		}
	}
}

// wantCode fails unless err is an *Error with the given reply code.
func wantCode(t testing.TB, err error, code uint16) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *Error %d", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("error code %d (%v), want %d", e.Code, e, code)
	}
	return e
}

// allMethodIDs lists every id NewMethod knows, found by asking it.
func allMethodIDs() []uint32 {
	var ids []uint32
	for class := range uint32(256) {
		for method := range uint32(256) {
			if _, err := NewMethod(class<<16 | method); err == nil {
				ids = append(ids, class<<16|method)
			}
		}
	}
	return ids
}
