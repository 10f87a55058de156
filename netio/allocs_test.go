package netio_test

import (
	"runtime"
	"testing"
)

// Allocation budget of the steady-state hot path, per message published,
// delivered and acked, counted over the whole process (client, broker,
// event loops). The path must allocate nothing; the slack covers
// background work that does not scale with messages (the 100 ms ticker,
// group-commit rounds, segment roll-over).
const (
	hotPathWarmup    = 20_000
	hotPathMessages  = 100_000
	hotPathMaxAllocs = 0.05 // per message
)

// TestHotPathAllocs checks that publish → deliver → ack allocates nothing
// per message once warmed up, for transient and persistent (durable queue,
// publisher confirms) messages, with auto-ack and with manual multiple acks.
// The fast client allocates nothing per message itself (pre-encoded
// publishes, in-place parsing), so every allocation counted is the
// broker's.
func TestHotPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	for _, durable := range []bool{false, true} {
		for _, autoAck := range []bool{true, false} {
			cfg := e2eConfig{size: 16, durable: durable, autoAck: autoAck, ackEvery: 100}
			t.Run(cfg.String(), func(t *testing.T) {
				r := startE2E(t, t, cfg)
				if err := r.run(hotPathWarmup); err != nil {
					t.Fatalf("warm-up: %v", err)
				}
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				err := r.run(hotPathMessages)
				runtime.ReadMemStats(&after)
				if err != nil {
					t.Fatalf("run: %v", err)
				}
				mallocs := after.Mallocs - before.Mallocs
				perMsg := float64(mallocs) / hotPathMessages
				t.Logf("%d allocations over %d messages: %.4f allocs/msg (%.0f B/msg)",
					mallocs, hotPathMessages, perMsg, float64(after.TotalAlloc-before.TotalAlloc)/hotPathMessages)
				if perMsg >= hotPathMaxAllocs {
					t.Errorf("hot path allocates %.4f times per message (%d allocations over %d messages), want < %v; "+
						"profile with: go test -run 'HotPathAllocs/%s' -memprofile mem.out -memprofilerate 1 ./netio/ && go tool pprof -sample_index=alloc_objects -top mem.out",
						perMsg, mallocs, hotPathMessages, hotPathMaxAllocs, cfg.String())
				}
			})
		}
	}
}
