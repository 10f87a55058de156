package mgmt

import (
	"testing"
	"time"

	"github.com/warrenmq/warren/broker"
)

// A channel and a queue show idle_since once a sampling interval passed
// without work, holding the time of the reading that last saw work (as
// RabbitMQ 3.10.8: absent while busy, the time it went idle after), and
// lose it when they work again.
func TestIdleSince(t *testing.T) {
	b, err := broker.Open(broker.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	v, _ := b.VHost("/")
	q, err := v.QueueDeclare(&broker.Principal{User: "guest", VHost: "/"}, broker.QueueDeclareOptions{Name: "idle"})
	if err != nil {
		t.Fatal(err)
	}
	var conn broker.ConnEntry
	b.Registry().Add(&conn, broker.ConnInfo{ID: 1, User: "guest", VHost: "/"}, func(string) {})
	var ch broker.ChannelEntry
	conn.AddChannel(&ch, 1)
	a := &api{b: b, rates: &rates{b: b, q: make(map[*broker.Queue]*rateRing)}}

	t0 := time.Date(2026, 12, 2, 18, 36, 2, 500e6, time.UTC)
	idle := func(at time.Time) (queue, channel any) {
		a.rates.sampleNow(at)
		return a.queueJSON(v, q)["idle_since"], a.channelJSON(&ch)["idle_since"]
	}
	if qi, ci := idle(t0); qi != nil || ci != nil {
		t.Errorf("after one reading: queue %v, channel %v; want none yet", qi, ci)
	}
	want := t0.Local().Format(idleSinceLayout)
	if qi, ci := idle(t0.Add(5 * time.Second)); qi != want || ci != want {
		t.Errorf("idle for an interval: queue %v, channel %v; want %s", qi, ci, want)
	}
	ch.CountPublish(false, false, true)
	q.Published.Add(1)
	if qi, ci := idle(t0.Add(10 * time.Second)); qi != nil || ci != nil {
		t.Errorf("busy in the last interval: queue %v, channel %v; want none", qi, ci)
	}
	want = t0.Add(10 * time.Second).Local().Format(idleSinceLayout)
	if qi, ci := idle(t0.Add(15 * time.Second)); qi != want || ci != want {
		t.Errorf("idle again: queue %v, channel %v; want %s", qi, ci, want)
	}
	row := a.queueRowOf(v, q)
	if got, ok := row.field([]string{"idle_since"}); !ok || got != want {
		t.Errorf("sort field idle_since %v %v", got, ok)
	}
}
