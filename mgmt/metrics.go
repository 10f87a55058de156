package mgmt

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"

	"github.com/VictoriaMetrics/metrics"

	"github.com/warrenmq/warren/broker"
)

// Prometheus endpoints as RabbitMQ's rabbitmq_prometheus plugin (3.10)
// serves them: aggregated families on /metrics, per-queue ones on
// /metrics/per-object, rabbitmq_detailed_* on /metrics/detailed.
//
// The rabbitmq_* families are written by hand in one pass over a snapshot
// (broker.QueueSamples, Registry.ChannelCounts) rather than as one
// VictoriaMetrics metric per queue: 10,000 queues would be 10,000 × n
// registered callbacks, each taking the vhost lock, and a deleted queue's
// metrics would have to be unregistered. VictoriaMetrics/metrics still
// writes the Go runtime and process families (the Go equivalent of
// erlang_vm_*) and Warren's own (storage errors).

// registerMetrics adds the Prometheus endpoints to mux.
func registerMetrics(mux *http.ServeMux, b *broker.Broker) {
	m := &metricsHandler{b: b}
	mux.HandleFunc("GET /metrics", m.aggregated)
	mux.HandleFunc("GET /metrics/per-object", m.perObject)
	mux.HandleFunc("GET /metrics/detailed", m.detailed)
}

type metricsHandler struct {
	b *broker.Broker
}

const promContentType = "text/plain; version=0.0.4"

func (m *metricsHandler) aggregated(w http.ResponseWriter, _ *http.Request) {
	var t promText
	m.writeNode(&t, false, nil)
	m.writeOwn(&t)
	m.serve(w, &t, true)
}

func (m *metricsHandler) perObject(w http.ResponseWriter, _ *http.Request) {
	var t promText
	samples := m.b.QueueSamples(nil, "")
	m.writeNode(&t, true, samples)
	m.writeOwn(&t)
	m.b.QueueSegments(samples)
	writeSegments(&t, samples)
	m.serve(w, &t, true)
}

func (m *metricsHandler) serve(w http.ResponseWriter, t *promText, process bool) {
	w.Header().Set("Content-Type", promContentType)
	_, _ = w.Write(t.b)
	if process {
		var buf bytes.Buffer
		metrics.WriteProcessMetrics(&buf)
		_, _ = w.Write(buf.Bytes())
	}
}

// writeNode writes the node-wide families. Per object, the queue families
// get one line per queue labelled vhost and queue (as RabbitMQ's
// per-object registry); otherwise one aggregated line.
func (m *metricsHandler) writeNode(t *promText, perObject bool, perQueue []broker.QueueSample) {
	b := m.b
	lc := b.Lifecycle()
	st := b.Stats()
	ch, openChannels := b.Registry().ChannelCounts()
	conns := b.Registry().Len()

	al := b.Alarms().Status()
	if !perObject { // RabbitMQ's per-object registry has no alarms
		// Warren has no file descriptor alarm (as RabbitMQ 3.10, which never raises it).
		t.family("rabbitmq_alarms_file_descriptor_limit", "untyped", "is 1 if file descriptor limit alarm is in effect")
		t.sample("rabbitmq_alarms_file_descriptor_limit", "", 0)
		t.family("rabbitmq_alarms_free_disk_space_watermark", "untyped", "is 1 if free disk space watermark alarm is in effect")
		t.sample("rabbitmq_alarms_free_disk_space_watermark", "", b2f(al.Disk))
		t.family("rabbitmq_alarms_memory_used_watermark", "untyped", "is 1 if VM memory watermark alarm is in effect")
		t.sample("rabbitmq_alarms_memory_used_watermark", "", b2f(al.Memory))
	}

	t.counter("rabbitmq_connections_opened_total", "Total number of connections opened", lc.ConnectionsOpened)
	t.counter("rabbitmq_connections_closed_total", "Total number of connections closed or terminated", lc.ConnectionsClosed)
	t.counter("rabbitmq_channels_opened_total", "Total number of channels opened", lc.ChannelsOpened)
	t.counter("rabbitmq_channels_closed_total", "Total number of channels closed", lc.ChannelsClosed)
	t.counter("rabbitmq_queues_declared_total", "Total number of queues declared", lc.QueuesDeclared)
	t.counter("rabbitmq_queues_created_total", "Total number of queues created", lc.QueuesCreated)
	t.counter("rabbitmq_queues_deleted_total", "Total number of queues deleted", lc.QueuesDeleted)

	p := readProcess(b.Config().DataDir)
	t.gauge("rabbitmq_process_open_fds", "Open file descriptors", float64(p.openFDs))
	t.gauge("rabbitmq_process_open_tcp_sockets", "Open TCP sockets", float64(conns))
	t.gauge("rabbitmq_process_resident_memory_bytes", "Memory used in bytes", float64(p.rss))
	t.gauge("rabbitmq_disk_space_available_bytes", "Disk space available in bytes", float64(p.diskFree))
	t.gauge("rabbitmq_process_max_fds", "Open file descriptors limit", float64(p.maxFDs))
	t.gauge("rabbitmq_process_max_tcp_sockets", "Open TCP sockets limit", float64(p.maxFDs))
	t.gauge("rabbitmq_resident_memory_limit_bytes", "Memory high watermark in bytes", float64(al.MemoryLimit))
	t.gauge("rabbitmq_disk_space_available_limit_bytes", "Free disk space low watermark in bytes", float64(al.DiskFreeLimit))

	m.writeQueues(t, st, perObject, perQueue)

	t.gauge("rabbitmq_channel_consumers", "Consumers on a channel", float64(st.Consumers))
	writeChannelGaugeSums(t, registeredChannels(b)) // metrics_channels.go
	t.counter("rabbitmq_channel_messages_published_total", "Total number of messages published into an exchange on a channel", ch.Published)
	t.counter("rabbitmq_channel_messages_confirmed_total", "Total number of messages published into an exchange and confirmed on the channel", ch.Confirmed)
	t.counter("rabbitmq_channel_messages_unroutable_returned_total", "Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable", ch.UnroutableReturned)
	t.counter("rabbitmq_channel_messages_unroutable_dropped_total", "Total number of messages published as non-mandatory into an exchange and dropped as unroutable", ch.UnroutableDropped)
	t.counter("rabbitmq_channel_get_ack_total", "Total number of messages fetched with basic.get in manual acknowledgement mode", ch.GetManualAck)
	t.counter("rabbitmq_channel_get_total", "Total number of messages fetched with basic.get in automatic acknowledgement mode", ch.GetAutoAck)
	t.counter("rabbitmq_channel_messages_delivered_ack_total", "Total number of messages delivered to consumers in manual acknowledgement mode", ch.ConsumeManualAck)
	t.counter("rabbitmq_channel_messages_delivered_total", "Total number of messages delivered to consumers in automatic acknowledgement mode", ch.ConsumeAutoAck)
	t.counter("rabbitmq_channel_messages_redelivered_total", "Total number of messages redelivered to consumers", ch.Redelivered)
	t.counter("rabbitmq_channel_messages_acked_total", "Total number of messages acknowledged by consumers", ch.Acked)
	t.counter("rabbitmq_channel_get_empty_total", "Total number of times basic.get operations fetched no message", ch.GetEmpty)

	t.gauge("rabbitmq_connections", "Connections currently open", float64(conns))
	t.gauge("rabbitmq_channels", "Channels currently open", float64(openChannels))
	t.gauge("rabbitmq_consumers", "Consumers currently connected", float64(st.Consumers))
	t.gauge("rabbitmq_queues", "Queues available", float64(st.Queues))

	writeAuthAttempts(t, b, "rabbitmq_", true, perObject) // auth_attempts.go
	writeInfo(t, b)
	writeGlobal(t, &ch, st.Consumers)
}

func (m *metricsHandler) writeQueues(t *promText, st broker.Stats, perObject bool, perQueue []broker.QueueSample) {
	type queueFamily struct {
		name, typ, help string
		agg             float64
		of              func(*broker.QueueSample) uint64
	}
	fams := []queueFamily{
		{"rabbitmq_queue_messages_ready", "gauge", "Messages ready to be delivered to consumers", float64(st.Ready),
			func(s *broker.QueueSample) uint64 { return uint64(max(s.Ready, 0)) }},
		{"rabbitmq_queue_messages_unacked", "gauge", "Messages delivered to consumers but not yet acknowledged", float64(st.Unacked),
			func(s *broker.QueueSample) uint64 { return uint64(max(s.Unacked, 0)) }},
		{"rabbitmq_queue_messages", "gauge", "Sum of ready and unacknowledged messages - total queue depth", float64(st.Ready + st.Unacked),
			func(s *broker.QueueSample) uint64 { return uint64(max(s.Ready+s.Unacked, 0)) }},
		{"rabbitmq_queue_consumers", "gauge", "Consumers on a queue", float64(st.Consumers),
			func(s *broker.QueueSample) uint64 { return uint64(s.Consumers) }},
		{"rabbitmq_queue_messages_published_total", "counter", "Total number of messages published to queues", float64(st.Published),
			func(s *broker.QueueSample) uint64 { return s.Published }},
	}
	for _, f := range fams {
		t.family(f.name, f.typ, f.help)
		if !perObject {
			t.sample(f.name, "", f.agg)
			continue
		}
		for i := range perQueue {
			s := &perQueue[i]
			t.b = append(t.b, f.name...)
			t.b = appendQueueLabels(t.b, s.VHost, s.Name)
			t.b = append(t.b, ' ')
			t.b = strconv.AppendUint(t.b, f.of(s), 10)
			t.b = append(t.b, '\n')
		}
	}
}

// writeInfo writes rabbitmq_build_info and rabbitmq_identity_info, which
// dashboards join every series with (on(instance) group_left).
func b2f(on bool) float64 {
	if on {
		return 1
	}
	return 0
}

func writeInfo(t *promText, b *broker.Broker) {
	t.family("rabbitmq_build_info", "untyped", "RabbitMQ & Erlang/OTP version info")
	t.sample("rabbitmq_build_info", labels(
		"rabbitmq_version", "3.10.8", "prometheus_plugin_version", "3.10.8",
		"warren_version", buildVersion(), "go_version", runtime.Version()), 1)
	node := nodeName()
	t.family("rabbitmq_identity_info", "untyped", "RabbitMQ node & cluster identity info")
	// The cluster's name and permanent id are its global parameters
	// cluster_name (the node's name by default) and internal_cluster_id.
	var id string
	if v, ok, _ := b.GlobalParameterValue("internal_cluster_id"); ok {
		_ = json.Unmarshal(v, &id)
	}
	t.sample("rabbitmq_identity_info", labels("rabbitmq_node", node, "rabbitmq_cluster", b.ClusterName(node), "rabbitmq_cluster_permanent_id", id), 1)
}

func writeGlobal(t *promText, ch *broker.ChannelTotals, consumers int) {
	amqp := labels("protocol", "amqp091")
	classic := labels("protocol", "amqp091", "queue_type", "rabbit_classic_queue")
	c := func(name, lbl, help string, v uint64) {
		t.family(name, "counter", help)
		t.uint(name, lbl, v)
	}
	t.family("rabbitmq_global_consumers", "gauge", "Current number of consumers")
	t.int("rabbitmq_global_consumers", amqp, int64(consumers))
	c("rabbitmq_global_messages_acknowledged_total", classic, "Total number of messages acknowledged by consumers", ch.Acked)
	c("rabbitmq_global_messages_confirmed_total", amqp, "Total number of messages confirmed to publishers", ch.Confirmed)
	c("rabbitmq_global_messages_delivered_consume_auto_ack_total", classic, "Total number of messages delivered to consumers using basic.consume with automatic acknowledgment", ch.ConsumeAutoAck)
	c("rabbitmq_global_messages_delivered_consume_manual_ack_total", classic, "Total number of messages delivered to consumers using basic.consume with manual acknowledgment", ch.ConsumeManualAck)
	c("rabbitmq_global_messages_delivered_get_auto_ack_total", classic, "Total number of messages delivered to consumers using basic.get with automatic acknowledgment", ch.GetAutoAck)
	c("rabbitmq_global_messages_delivered_get_manual_ack_total", classic, "Total number of messages delivered to consumers using basic.get with manual acknowledgment", ch.GetManualAck)
	c("rabbitmq_global_messages_delivered_total", classic, "Total number of messages delivered to consumers", ch.Delivered)
	c("rabbitmq_global_messages_get_empty_total", classic, "Total number of times basic.get operations fetched no message", ch.GetEmpty)
	c("rabbitmq_global_messages_received_confirm_total", amqp, "Total number of messages received from publishers expecting confirmations", ch.PublishedConfirm)
	c("rabbitmq_global_messages_received_total", amqp, "Total number of messages received from publishers", ch.Published)
	c("rabbitmq_global_messages_redelivered_total", classic, "Total number of messages redelivered to consumers", ch.Redelivered)
	c("rabbitmq_global_messages_routed_total", amqp, "Total number of messages routed to queues or streams", ch.Routed)
	c("rabbitmq_global_messages_unroutable_dropped_total", amqp, "Total number of messages published as non-mandatory into an exchange and dropped as unroutable", ch.UnroutableDropped)
	c("rabbitmq_global_messages_unroutable_returned_total", amqp, "Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable", ch.UnroutableReturned)
}

// writeOwn writes Warren's own families.
func (m *metricsHandler) writeOwn(t *promText) {
	t.family("warren_storage_errors_total", "counter", "Storage operations that failed, by operation")
	faults := broker.StorageFaults()
	for _, op := range slices.Sorted(maps.Keys(faults)) {
		t.uint("warren_storage_errors_total", labels("op", op), faults[op])
	}
	latency, batch := m.b.SyncStats()
	t.histogram("warren_fsync_duration_seconds", "Time per segment fdatasync, with the staged writes before it", &latency)
	t.histogram("warren_group_commit_files", "Segment files synced per group commit (one fsync round)", &batch)
	_, records := m.b.SyncCounts()
	t.family("warren_fsync_records_total", "counter", "Persistent records covered by segment fdatasyncs (over warren_fsync_duration_seconds_count: messages per fdatasync)")
	t.uint("warren_fsync_records_total", "", records)
}

// writeSegments writes the per-queue segment families (per-object only:
// they take each queue's lock for a moment).
func writeSegments(t *promText, samples []broker.QueueSample) {
	fams := []struct {
		name, help string
		of         func(*broker.QueueSample) int64
	}{
		{"warren_queue_segment_files", "Segment files of a queue", func(s *broker.QueueSample) int64 { return int64(s.Segments.Files) }},
		{"warren_queue_segment_bytes", "Disk bytes of a queue's segment files (the head's preallocation included)", func(s *broker.QueueSample) int64 { return s.Segments.Bytes }},
		{"warren_queue_mapped_bytes", "Bytes of a queue's segments mapped for reading", func(s *broker.QueueSample) int64 { return s.Segments.MappedBytes }},
	}
	for _, f := range fams {
		t.family(f.name, "gauge", f.help)
		for i := range samples {
			if s := &samples[i]; s.SegmentsKnown {
				t.b = append(t.b, f.name...)
				t.b = appendQueueLabels(t.b, s.VHost, s.Name)
				t.b = append(t.b, ' ')
				t.b = appendInt(t.b, f.of(s))
				t.b = append(t.b, '\n')
			}
		}
	}
}

func nodeName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "localhost"
	}
	return "warren@" + h
}
