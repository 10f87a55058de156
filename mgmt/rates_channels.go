package mgmt

import (
	"time"

	"github.com/warrenmq/warren/broker"
)

// The overview's message_stats beyond the queues' counters, from the
// channels' (broker.Registry().ChannelCounts: open channels plus what
// closed ones counted, so they never go down): confirm, deliver,
// deliver_no_ack, get_empty, drop_unroutable and return_unroutable, with
// rates over the last sampling interval, as RabbitMQ's overview shows them.

const (
	chConfirm = iota
	chDeliver
	chDeliverNoAck
	chDropUnroutable
	chGetEmpty
	chReturnUnroutable
	nChanCounters
)

type chanCounts [nChanCounters]uint64

func channelCounts(b *broker.Broker) chanCounts {
	t, _ := b.Registry().ChannelCounts()
	var c chanCounts
	c[chConfirm], c[chDeliver], c[chDeliverNoAck] = t.Confirmed, t.ConsumeManualAck, t.ConsumeAutoAck
	c[chDropUnroutable], c[chGetEmpty], c[chReturnUnroutable] = t.UnroutableDropped, t.GetEmpty, t.UnroutableReturned
	return c
}

// chanRing is rateRing for chanCounts.
type chanRing struct {
	at [2]time.Time
	c  [2]chanCounts
	n  int
}

func (r *chanRing) add(at time.Time, c chanCounts) {
	if r.n == 2 {
		r.at[0], r.c[0] = r.at[1], r.c[1]
		r.n--
	}
	r.at[r.n], r.c[r.n] = at, c
	r.n++
}

func (r *chanRing) rates() (out [nChanCounters]float64) {
	if r.n < 2 {
		return out
	}
	dt := r.at[1].Sub(r.at[0]).Seconds()
	if dt <= 0 {
		return out
	}
	for i := range out {
		if r.c[1][i] >= r.c[0][i] {
			out[i] = float64(r.c[1][i]-r.c[0][i]) / dt
		}
	}
	return out
}

// overviewStats is the overview's message_stats: the queues' sums and the
// channels' counters, fields in key order.
type overviewStats struct {
	Ack                     uint64 `json:"ack"`
	AckDetails              rate   `json:"ack_details"`
	Confirm                 uint64 `json:"confirm"`
	ConfirmDetails          rate   `json:"confirm_details"`
	Deliver                 uint64 `json:"deliver"`
	DeliverDetails          rate   `json:"deliver_details"`
	DeliverGet              uint64 `json:"deliver_get"`
	DeliverGetDetails       rate   `json:"deliver_get_details"`
	DeliverNoAck            uint64 `json:"deliver_no_ack"`
	DeliverNoAckDetails     rate   `json:"deliver_no_ack_details"`
	DropUnroutable          uint64 `json:"drop_unroutable"`
	DropUnroutableDetails   rate   `json:"drop_unroutable_details"`
	Get                     uint64 `json:"get"`
	GetDetails              rate   `json:"get_details"`
	GetEmpty                uint64 `json:"get_empty"`
	GetEmptyDetails         rate   `json:"get_empty_details"`
	GetNoAck                uint64 `json:"get_no_ack"`
	GetNoAckDetails         rate   `json:"get_no_ack_details"`
	Publish                 uint64 `json:"publish"`
	PublishDetails          rate   `json:"publish_details"`
	Redeliver               uint64 `json:"redeliver"`
	RedeliverDetails        rate   `json:"redeliver_details"`
	ReturnUnroutable        uint64 `json:"return_unroutable"`
	ReturnUnroutableDetails rate   `json:"return_unroutable_details"`
}

// overviewStats is totalStats with the channels' counters.
func (r *rates) overviewStats(st broker.Stats) overviewStats {
	q := r.totalStats(st)
	c := channelCounts(r.b)
	r.mu.Lock()
	rs := r.ch.rates()
	r.mu.Unlock()
	return overviewStats{
		Ack: q.Ack, AckDetails: q.AckDetails,
		Confirm: c[chConfirm], ConfirmDetails: rate{rs[chConfirm]},
		Deliver: c[chDeliver], DeliverDetails: rate{rs[chDeliver]},
		DeliverGet: q.DeliverGet, DeliverGetDetails: q.DeliverGetDetails,
		DeliverNoAck: c[chDeliverNoAck], DeliverNoAckDetails: rate{rs[chDeliverNoAck]},
		DropUnroutable: c[chDropUnroutable], DropUnroutableDetails: rate{rs[chDropUnroutable]},
		Get: q.Get, GetDetails: q.GetDetails,
		GetEmpty: c[chGetEmpty], GetEmptyDetails: rate{rs[chGetEmpty]},
		GetNoAck: q.GetNoAck, GetNoAckDetails: q.GetNoAckDetails,
		Publish: q.Publish, PublishDetails: q.PublishDetails,
		Redeliver: q.Redeliver, RedeliverDetails: q.RedeliverDetails,
		ReturnUnroutable: c[chReturnUnroutable], ReturnUnroutableDetails: rate{rs[chReturnUnroutable]},
	}
}
