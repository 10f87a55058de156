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
	writeInfo(&t, m.b)
	m.serve(w, &t, false)
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
