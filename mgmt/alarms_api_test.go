package mgmt

import (
	"net/http"
	"testing"
)

// A memory alarm shows in /metrics, /api/nodes and the alarms health
// checks (RabbitMQ's 503 body), and clears from all of them.
func TestAlarmsInMetricsNodesAndHealth(t *testing.T) {
	tg := newTarget(t, nil)
	if tg.external {
		t.Skip("raises an alarm in the in-process Warren")
	}
	node := "/api/nodes/warren@localhost"
	if n := object(t, tg, node); n["mem_alarm"] != false || n["disk_free_alarm"] != false || n["mem_limit"] == nil || n["disk_free_limit"] == nil {
		t.Fatalf("node before: %v", n)
	}
	tg.b.Alarms().SetMemoryLimit(1)
	poll(t, "the alarm in /api/nodes", func() bool { return object(t, tg, node)["mem_alarm"] == true })
	if n := object(t, tg, node); n["mem_limit"] != 1.0 {
		t.Errorf("mem_limit %v", n["mem_limit"])
	}
	m := getMetrics(t, tg.base+"/metrics")
	if m.series["rabbitmq_alarms_memory_used_watermark"] != 1 || m.series["rabbitmq_resident_memory_limit_bytes"] != 1 || m.series["rabbitmq_alarms_free_disk_space_watermark"] != 0 {
		t.Errorf("metrics under a memory alarm: %v %v", m.series["rabbitmq_alarms_memory_used_watermark"], m.series["rabbitmq_resident_memory_limit_bytes"])
	}
	expect(t, "alarms check", tg.guest(t, "GET", "/api/health/checks/alarms", ""), http.StatusServiceUnavailable,
		`{"alarms":[{"node":"warren@localhost","resource":"memory"}],"reason":"There are alarms in effect in the cluster","status":"failed"}`)
	expect(t, "local alarms check", tg.guest(t, "GET", "/api/health/checks/local-alarms", ""), http.StatusServiceUnavailable,
		`{"alarms":[{"node":"warren@localhost","resource":"memory"}],"reason":"There are alarms in effect on the node","status":"failed"}`)
	tg.b.Alarms().SetMemoryLimit(1 << 50)
	poll(t, "the alarm cleared", func() bool { return object(t, tg, node)["mem_alarm"] == false })
	expect(t, "alarms check after", tg.guest(t, "GET", "/api/health/checks/alarms", ""), http.StatusOK, `{"status":"ok"}`)
	if m := getMetrics(t, tg.base+"/metrics"); m.series["rabbitmq_alarms_memory_used_watermark"] != 0 {
		t.Errorf("metrics after the alarm: %v", m.series["rabbitmq_alarms_memory_used_watermark"])
	}
}
