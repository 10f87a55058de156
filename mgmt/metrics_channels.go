package mgmt

import "github.com/warrenmq/warren/broker"

// The channel state gauges of RabbitMQ's channel_metrics (unacked,
// unconfirmed, uncommitted messages and acks, the two prefetch windows),
// from broker.ChannelState: summed over channels on /metrics, one line
// per channel on /metrics/detailed?family=channel_metrics.

type channelGauge struct {
	name, help string
	of         func(*broker.ChannelEntry) int64
}

var channelGauges = []channelGauge{
	{"channel_messages_unacked", "Delivered but not yet acknowledged messages", func(c *broker.ChannelEntry) int64 { return int64(c.Unacknowledged()) }},
	{"channel_messages_unconfirmed", "Published but not yet confirmed messages", func(c *broker.ChannelEntry) int64 { return int64(unconfirmed(c)) }},
	{"channel_messages_uncommitted", "Messages received in a transaction but not yet committed", func(c *broker.ChannelEntry) int64 { return int64(c.UncommittedMessages.Load()) }},
	{"channel_acks_uncommitted", "Message acknowledgements in a transaction not yet committed", func(c *broker.ChannelEntry) int64 { return int64(c.UncommittedAcks.Load()) }},
	{"consumer_prefetch", "Limit of unacknowledged messages for each consumer", func(c *broker.ChannelEntry) int64 { return int64(c.PrefetchCount.Load()) }},
	{"channel_prefetch", "Total limit of unacknowledged messages for all consumers on a channel", func(c *broker.ChannelEntry) int64 { return int64(c.GlobalPrefetchCount.Load()) }},
}

func registeredChannels(b *broker.Broker) []*broker.ChannelEntry {
	var out []*broker.ChannelEntry
	for _, c := range b.Registry().Conns() {
		out = append(out, c.Channels()...)
	}
	return out
}

// writeChannelGaugeSums writes the rabbitmq_channel_* state gauges summed
// over the open channels, as RabbitMQ's aggregated registry does.
func writeChannelGaugeSums(t *promText, chans []*broker.ChannelEntry) {
	for _, g := range channelGauges {
		var sum int64
		for _, ch := range chans {
			sum += g.of(ch)
		}
		t.family("rabbitmq_"+g.name, "gauge", g.help)
		t.int("rabbitmq_"+g.name, "", sum)
	}
}

// writeChannelGauges writes them per channel, labelled with its name.
func writeChannelGauges(t *promText, chans []*broker.ChannelEntry) {
	for _, g := range channelGauges {
		name := "rabbitmq_detailed_" + g.name
		t.family(name, "gauge", g.help)
		for _, ch := range chans {
			t.int(name, labels("channel", channelName(ch)), g.of(ch))
		}
	}
}
