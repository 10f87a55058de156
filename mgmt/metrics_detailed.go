package mgmt

import (
	"net/http"
	"runtime/debug"
	"slices"

	"github.com/warrenmq/warren/broker"
)

// detailed serves /metrics/detailed: only the families asked for with
// family= (repeatable), queue ones restricted to vhost= (repeatable), then
// the identity families, as RabbitMQ's detailed registry does.
func (m *metricsHandler) detailed(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	fams, vhosts := q["family"], q["vhost"]
	var t promText
	if slices.Contains(fams, "connection_churn_metrics") {
		lc := m.b.Lifecycle()
		t.counter("rabbitmq_detailed_connections_opened_total", "Total number of connections opened", lc.ConnectionsOpened)
		t.counter("rabbitmq_detailed_connections_closed_total", "Total number of connections closed or terminated", lc.ConnectionsClosed)
		t.counter("rabbitmq_detailed_channels_opened_total", "Total number of channels opened", lc.ChannelsOpened)
		t.counter("rabbitmq_detailed_channels_closed_total", "Total number of channels closed", lc.ChannelsClosed)
		t.counter("rabbitmq_detailed_queues_declared_total", "Total number of queues declared", lc.QueuesDeclared)
		t.counter("rabbitmq_detailed_queues_created_total", "Total number of queues created", lc.QueuesCreated)
		t.counter("rabbitmq_detailed_queues_deleted_total", "Total number of queues deleted", lc.QueuesDeleted)
	}
	coarse, consumers := slices.Contains(fams, "queue_coarse_metrics"), slices.Contains(fams, "queue_consumer_count")
	if coarse || consumers {
		var samples []broker.QueueSample
		if len(vhosts) == 0 {
			samples = m.b.QueueSamples(nil, "")
		}
		for _, v := range vhosts {
			samples = m.b.QueueSamples(samples, v)
		}
		if coarse {
			queueFamily(&t, samples, "rabbitmq_detailed_queue_messages_ready", "gauge", "Messages ready to be delivered to consumers",
				func(s *broker.QueueSample) int64 { return s.Ready })
			queueFamily(&t, samples, "rabbitmq_detailed_queue_messages_unacked", "gauge", "Messages delivered to consumers but not yet acknowledged",
				func(s *broker.QueueSample) int64 { return s.Unacked })
			queueFamily(&t, samples, "rabbitmq_detailed_queue_messages", "gauge", "Sum of ready and unacknowledged messages - total queue depth",
				func(s *broker.QueueSample) int64 { return s.Ready + s.Unacked })
		}
		if consumers {
			queueFamily(&t, samples, "rabbitmq_detailed_queue_consumers", "gauge", "Consumers on a queue",
				func(s *broker.QueueSample) int64 { return int64(s.Consumers) })
		}
	}
	m.detailedMore(&t, fams, vhosts) // the families below
	if a, d := slices.Contains(fams, "auth_attempt_metrics"), slices.Contains(fams, "auth_attempt_detailed_metrics"); a || d {
		writeAuthAttempts(&t, m.b, "rabbitmq_detailed_", a, d) // auth_attempts.go
	}
	writeInfo(&t, m.b)
	m.serve(w, &t, false)
}

// detailedMore writes the other families RabbitMQ 3.10's detailed
// registry has, as far as Warren has the figures. What Warren lacks is
// left out rather than sent as zeros: the Erlang VM's (processes, GC,
// reductions, schedulers), Raft's (ra_metrics: no quorum replication),
// the message store's and queue index's I/O counts, messages held in RAM,
// and packets. Warren counts per channel, not per channel and
// exchange or queue, so channel_exchange_metrics and channel_queue_metrics
// carry channel and vhost labels without exchange or queue, and
// channel_queue_exchange_metrics' per-queue publishes carry queue_vhost and
// queue only. A channel's or connection's label is its management name
// (RabbitMQ's is an Erlang pid).
func (m *metricsHandler) detailedMore(t *promText, fams, vhosts []string) {
	has := func(f string) bool { return slices.Contains(fams, f) }
	if has("node_coarse_metrics") || has("node_metrics") {
		p := readProcess(m.b.Config().DataDir)
		if has("node_coarse_metrics") {
			t.gauge("rabbitmq_detailed_process_open_fds", "Open file descriptors", float64(p.openFDs))
			t.gauge("rabbitmq_detailed_process_open_tcp_sockets", "Open TCP sockets", float64(m.b.Registry().Len()))
			t.gauge("rabbitmq_detailed_process_resident_memory_bytes", "Memory used in bytes", float64(p.rss))
			t.gauge("rabbitmq_detailed_disk_space_available_bytes", "Disk space available in bytes", float64(p.diskFree))
		}
		if has("node_metrics") {
			al := m.b.Alarms().Status()
			t.gauge("rabbitmq_detailed_process_max_fds", "Open file descriptors limit", float64(p.maxFDs))
			t.gauge("rabbitmq_detailed_process_max_tcp_sockets", "Open TCP sockets limit", float64(p.maxFDs))
			t.gauge("rabbitmq_detailed_resident_memory_limit_bytes", "Memory high watermark in bytes", float64(al.MemoryLimit))
			t.gauge("rabbitmq_detailed_disk_space_available_limit_bytes", "Free disk space low watermark in bytes", float64(al.DiskFreeLimit))
		}
	}
	if has("node_persister_metrics") {
		lat, _ := m.b.SyncStats()
		t.counter("rabbitmq_detailed_io_sync_ops_total", "Total number of I/O sync operations", lat.Count)
		t.family("rabbitmq_detailed_io_sync_time_seconds_total", "counter", "Total I/O sync time")
		t.sample("rabbitmq_detailed_io_sync_time_seconds_total", "", lat.Sum)
	}
	if has("queue_metrics") {
		// queue_consumer_count wrote rabbitmq_detailed_queue_consumers already.
		m.detailedQueueMetrics(t, vhosts, !has("queue_consumer_count"))
	}
	if has("channel_exchange_metrics") || has("channel_metrics") || has("channel_queue_metrics") {
		m.detailedChannels(t, has)
	}
	if has("channel_queue_exchange_metrics") {
		name := "rabbitmq_detailed_queue_messages_published_total"
		t.family(name, "counter", "Total number of messages published to queues")
		for _, v := range m.selectedVHosts(vhosts) {
			for _, q := range v.Queues() {
				t.uint(name, labels("queue_vhost", v.Name, "queue", q.Name), q.Published.Load())
			}
		}
	}
	if has("connection_coarse_metrics") || has("connection_metrics") {
		conns := m.b.Registry().Conns()
		if has("connection_coarse_metrics") {
			for _, f := range []struct {
				name, help string
				of         func(*broker.ConnEntry) uint64
			}{
				{"rabbitmq_detailed_connection_incoming_bytes_total", "Total number of bytes received on a connection", func(c *broker.ConnEntry) uint64 { return c.BytesIn.Load() }},
				{"rabbitmq_detailed_connection_outgoing_bytes_total", "Total number of bytes sent on a connection", func(c *broker.ConnEntry) uint64 { return c.BytesOut.Load() }},
			} {
				t.family(f.name, "counter", f.help)
				for _, c := range conns {
					// RabbitMQ names this label "channel" though it holds the connection.
					t.uint(f.name, labels("channel", connectionName(c)), f.of(c))
				}
			}
		}
		if has("connection_metrics") {
			name := "rabbitmq_detailed_connection_channels"
			t.family(name, "gauge", "Channels on a connection")
			for _, c := range conns {
				t.int(name, labels("channel", connectionName(c)), int64(len(c.Channels())))
			}
		}
	}
	if has("exchange_names") || has("exchange_bindings") {
		all := m.b.VHostObjects()
		if has("exchange_names") {
			name := "rabbitmq_cluster_exchange_name"
			t.family(name, "gauge", "Enumerates exchanges without any additional info. This value is cluster-wide. A cheaper alternative to `exchange_bindings`")
			for _, v := range all {
				for _, x := range v.Exchanges() {
					t.int(name, labels("vhost", v.Name, "exchange", x.Name, "type", x.Type), 1)
				}
			}
		}
		if has("exchange_bindings") {
			name := "rabbitmq_cluster_exchange_bindings"
			t.family(name, "gauge", "Number of bindings for an exchange. This value is cluster-wide.")
			for _, v := range all {
				n := map[string]int64{}
				for _, b := range v.Bindings() {
					n[b.Source]++
				}
				for _, x := range v.Exchanges() {
					if x.Name != "" { // RabbitMQ leaves the default exchange out
						t.int(name, labels("vhost", v.Name, "exchange", x.Name, "type", x.Type), n[x.Name])
					}
				}
			}
		}
	}
	if has("vhost_status") {
		name := "rabbitmq_cluster_vhost_status"
		t.family(name, "gauge", "Whether a given vhost is running")
		for _, v := range m.b.VHostObjects() {
			t.int(name, labels("vhost", v.Name), 1)
		}
	}
}

// selectedVHosts are the vhosts named by vhost= (all if none).
func (m *metricsHandler) selectedVHosts(names []string) []*broker.VHost {
	all := m.b.VHostObjects()
	if len(names) == 0 {
		return all
	}
	out := all[:0]
	for _, v := range all {
		if slices.Contains(names, v.Name) {
			out = append(out, v)
		}
	}
	return out
}

// detailedQueueMetrics is queue_metrics: consumers, memory and message
// bytes, one lock of each queue for its bytes (queue_bytes.go).
func (m *metricsHandler) detailedQueueMetrics(t *promText, vhosts []string, consumers bool) {
	type row struct {
		vhost, name string
		consumers   int64
		b           broker.QueueBytes
	}
	var rows []row
	for _, v := range m.selectedVHosts(vhosts) {
		for _, q := range v.Queues() {
			rows = append(rows, row{v.Name, q.Name, int64(q.ConsumerCount()), q.Bytes()})
		}
	}
	for _, f := range []struct {
		name, help string
		of         func(*row) int64
	}{
		{"rabbitmq_detailed_queue_consumers", "Consumers on a queue", func(r *row) int64 { return r.consumers }},
		{"rabbitmq_detailed_queue_process_memory_bytes", "Memory in bytes used by the Erlang queue process", func(r *row) int64 { return r.b.Memory }},
		{"rabbitmq_detailed_queue_messages_bytes", "Size in bytes of ready and unacknowledged messages", func(r *row) int64 { return r.b.Ready + r.b.Unacked }},
		{"rabbitmq_detailed_queue_messages_ready_bytes", "Size in bytes of ready messages", func(r *row) int64 { return r.b.Ready }},
		{"rabbitmq_detailed_queue_messages_unacked_bytes", "Size in bytes of all unacknowledged messages", func(r *row) int64 { return r.b.Unacked }},
	} {
		if f.name == "rabbitmq_detailed_queue_consumers" && !consumers {
			continue
		}
		t.family(f.name, "gauge", f.help)
		for i := range rows {
			t.b = append(t.b, f.name...)
			t.b = appendQueueLabels(t.b, rows[i].vhost, rows[i].name)
			t.b = append(t.b, ' ')
			t.b = appendInt(t.b, f.of(&rows[i]))
			t.b = append(t.b, '\n')
		}
	}
}

// detailedChannels is channel_exchange_metrics, channel_metrics and
// channel_queue_metrics, per open channel.
func (m *metricsHandler) detailedChannels(t *promText, has func(string) bool) {
	type row struct {
		labels, chanOnly string
		ch               *broker.ChannelEntry
	}
	var rows []row
	for _, c := range m.b.Registry().Conns() {
		for _, ch := range c.Channels() {
			n := channelName(ch)
			rows = append(rows, row{labels("channel", n, "vhost", c.Info.VHost), labels("channel", n), ch})
		}
	}
	type fam struct {
		name, help string
		of         func(*broker.ChannelEntry) uint64
	}
	write := func(fs []fam) {
		for _, f := range fs {
			t.family(f.name, "counter", f.help)
			for _, r := range rows {
				t.uint(f.name, r.labels, f.of(r.ch))
			}
		}
	}
	if has("channel_exchange_metrics") {
		write([]fam{
			{"rabbitmq_detailed_channel_messages_published_total", "Total number of messages published into an exchange on a channel", func(c *broker.ChannelEntry) uint64 { return c.Published.Load() }},
			{"rabbitmq_detailed_channel_messages_confirmed_total", "Total number of messages published into an exchange and confirmed on the channel", func(c *broker.ChannelEntry) uint64 { return c.Confirmed.Load() }},
			{"rabbitmq_detailed_channel_messages_unroutable_returned_total", "Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable", func(c *broker.ChannelEntry) uint64 { return c.UnroutableReturned.Load() }},
			{"rabbitmq_detailed_channel_messages_unroutable_dropped_total", "Total number of messages published as non-mandatory into an exchange and dropped as unroutable", func(c *broker.ChannelEntry) uint64 { return c.UnroutableDropped.Load() }},
		})
	}
	if has("channel_metrics") {
		name := "rabbitmq_detailed_channel_consumers"
		t.family(name, "gauge", "Consumers on a channel")
		for _, r := range rows {
			t.int(name, r.chanOnly, int64(len(r.ch.Consumers())))
		}
		chans := make([]*broker.ChannelEntry, len(rows))
		for i, r := range rows {
			chans[i] = r.ch
		}
		writeChannelGauges(t, chans) // metrics_channels.go
	}
	if has("channel_queue_metrics") {
		write([]fam{
			{"rabbitmq_detailed_channel_get_ack_total", "Total number of messages fetched with basic.get in manual acknowledgement mode", func(c *broker.ChannelEntry) uint64 { return c.GetManualAck.Load() }},
			{"rabbitmq_detailed_channel_get_total", "Total number of messages fetched with basic.get in automatic acknowledgement mode", func(c *broker.ChannelEntry) uint64 { return c.GetAutoAck.Load() }},
			{"rabbitmq_detailed_channel_messages_delivered_ack_total", "Total number of messages delivered to consumers in manual acknowledgement mode", func(c *broker.ChannelEntry) uint64 { return c.ConsumeManualAck.Load() }},
			{"rabbitmq_detailed_channel_messages_delivered_total", "Total number of messages delivered to consumers in automatic acknowledgement mode", func(c *broker.ChannelEntry) uint64 { return c.ConsumeAutoAck.Load() }},
			{"rabbitmq_detailed_channel_messages_redelivered_total", "Total number of messages redelivered to consumers", func(c *broker.ChannelEntry) uint64 { return c.Redelivered.Load() }},
			{"rabbitmq_detailed_channel_messages_acked_total", "Total number of messages acknowledged by consumers", func(c *broker.ChannelEntry) uint64 { return c.Acked.Load() }},
			{"rabbitmq_detailed_channel_get_empty_total", "Total number of times basic.get operations fetched no message", func(c *broker.ChannelEntry) uint64 { return c.GetEmpty.Load() }},
		})
	}
}

func queueFamily(t *promText, samples []broker.QueueSample, name, typ, help string, of func(*broker.QueueSample) int64) {
	t.family(name, typ, help)
	for i := range samples {
		s := &samples[i]
		t.b = append(t.b, name...)
		t.b = appendQueueLabels(t.b, s.VHost, s.Name)
		t.b = append(t.b, ' ')
		t.b = appendInt(t.b, of(s))
		t.b = append(t.b, '\n')
	}
}

func buildVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "devel"
}
