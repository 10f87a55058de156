package router

import (
	"fmt"
	"testing"
)

// setInPlace builds the same map as with, whatever the order and size.
func TestCowMapSetInPlace(t *testing.T) {
	var a, b cowMap[int]
	for i := range 20000 {
		k := fmt.Sprintf("k%d", i%15000) // some keys set twice
		a = a.with(k, i)
		b = b.setInPlace(k, i)
	}
	if a.len() != b.len() {
		t.Fatalf("len %d, want %d", b.len(), a.len())
	}
	a.each(func(k string, v int) {
		if got, ok := b.getString(k); !ok || got != v {
			t.Fatalf("%s: %d %v, want %d", k, got, ok, v)
		}
	})
}
