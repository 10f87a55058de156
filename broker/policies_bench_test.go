package broker

import (
	"fmt"
	"testing"
)

// BenchmarkSetPolicy is the cost of setting a policy on a vhost with
// 10,000 queues, each of which matches it (or with 9 other policies
// present), the figure docs/BENCHMARKS.md reports.
func BenchmarkSetPolicy(b *testing.B) {
	for _, others := range []int{0, 9} {
		b.Run(fmt.Sprintf("queues=10000/other-policies=%d", others), func(b *testing.B) {
			br := openTestBroker(b)
			v, _ := br.VHost("/")
			for i := range 10000 {
				if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: fmt.Sprintf("bench.%d", i)}); err != nil {
					b.Fatal(err)
				}
			}
			for i := range others {
				if _, err := v.SetPolicy(UserPolicy, Policy{Name: fmt.Sprintf("other%d", i), Pattern: fmt.Sprintf("^other%d\\.", i), Definition: map[string]any{"max-length": 1}}); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := range b.N {
				if _, err := v.SetPolicy(UserPolicy, Policy{Name: "cap", Pattern: `^bench\.`, Definition: map[string]any{"max-length": 1000 + i%2}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDeclareUnderPolicies is queue.declare with 10 policies to match
// against, next to none.
func BenchmarkDeclareUnderPolicies(b *testing.B) {
	for _, n := range []int{0, 10} {
		b.Run(fmt.Sprintf("policies=%d", n), func(b *testing.B) {
			br := openTestBroker(b)
			v, _ := br.VHost("/")
			for i := range n {
				if _, err := v.SetPolicy(UserPolicy, Policy{Name: fmt.Sprintf("p%d", i), Pattern: fmt.Sprintf("^p%d\\.|\\.x%d$", i, i), Definition: map[string]any{"max-length": 1}}); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := range b.N {
				if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: fmt.Sprintf("decl.%d", i)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
