package mgmt

import (
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/warrenmq/warren/broker"
)

// managementVersion is the RabbitMQ management API Warren answers as:
// tools read it (and rabbitmq_version) to choose request shapes.
const managementVersion = "3.10.8"

// registerOverview serves /api/overview, /api/whoami and /api/nodes.
func (a *api) registerOverview() {
	a.handle("GET", "/api/overview", permManagement, a.overview)
	a.handle("GET", "/api/whoami", permManagement, a.whoami)
	a.handle("GET", "/api/nodes", permMonitor, a.nodes)
	a.handle("GET", "/api/nodes/{$}", permMonitor, a.nodes)
	a.handle("GET", "/api/nodes/{name}", permMonitor, a.node)
}

var exchangeTypes = []map[string]any{
	{"name": "direct", "description": "AMQP direct exchange, as per the AMQP specification", "enabled": true},
	{"name": "fanout", "description": "AMQP fanout exchange, as per the AMQP specification", "enabled": true},
	{"name": "headers", "description": "AMQP headers exchange, as per the AMQP specification", "enabled": true},
	{"name": "topic", "description": "AMQP topic exchange, as per the AMQP specification", "enabled": true},
	{"name": "x-consistent-hash", "description": "Consistent Hashing Exchange", "enabled": true},
}

func (a *api) overview(w http.ResponseWriter, _ *http.Request, _ *broker.Principal) {
	st := a.b.Stats()
	var exchanges int
	for _, v := range a.b.VHostObjects() {
		exchanges += v.Counts().Exchanges
	}
	var channels, consumers int
	conns := a.b.Registry().Conns()
	for _, c := range conns {
		for _, ch := range c.Channels() {
			channels++
			consumers += len(ch.Consumers())
		}
	}
	writeJSON(w, map[string]any{
		"management_version":  managementVersion,
		"rates_mode":          "basic",
		"exchange_types":      exchangeTypes,
		"product_version":     a.cfg.Version,
		"product_name":        "Warren",
		"rabbitmq_version":    managementVersion,
		"cluster_name":        a.b.ClusterName(a.cfg.Node),
		"node":                a.cfg.Node,
		"disable_stats":       false,
		"enable_queue_totals": false,
		"message_stats":       a.rates.overviewStats(st), // rates_channels.go
		"queue_totals": map[string]any{
			"messages":                st.Ready + st.Unacked,
			"messages_ready":          st.Ready,
			"messages_unacknowledged": st.Unacked,
		},
		"object_totals": map[string]any{
			"channels":    channels,
			"connections": len(conns),
			"consumers":   consumers,
			"exchanges":   exchanges,
			"queues":      st.Queues,
		},
		"statistics_db_event_queue": 0,
		"listeners":                 a.listeners(),
		"contexts":                  a.contexts(),
	})
}

// listeners are every listener the broker has open (broker/listeners.go:
// AMQP, AMQPS, stream, this API's HTTP or HTTPS, Prometheus), as
// RabbitMQ lists them, ordered by protocol. The configured AMQP listener
// is listed even in the moment before its accept loop lists itself.
func (a *api) listeners() []map[string]any {
	ls := a.b.Listeners()
	if a.cfg.AMQP != nil && !slices.ContainsFunc(ls, func(l broker.Listener) bool { return l.Addr.String() == a.cfg.AMQP.String() }) {
		ls = append(ls, broker.Listener{Protocol: "amqp", Addr: a.cfg.AMQP})
		slices.SortStableFunc(ls, func(x, y broker.Listener) int { return strings.Compare(x.Protocol, y.Protocol) })
	}
	out := make([]map[string]any, 0, len(ls))
	for _, l := range ls {
		host, _, _ := net.SplitHostPort(l.Addr.String())
		out = append(out, map[string]any{
			"node": a.cfg.Node, "protocol": l.Protocol, "ip_address": host, "port": port(l.Addr), "socket_opts": socketOpts(l),
		})
	}
	return out
}

// contexts are the HTTP listeners' web contexts: this API's, and the
// Prometheus listener's if one is open, as RabbitMQ lists them.
func (a *api) contexts() []map[string]any {
	out := []map[string]any{{
		"node": a.cfg.Node, "description": "Warren Management", "path": "/", "port": strconv.Itoa(port(a.http)),
	}}
	for _, l := range a.b.Listeners() {
		if strings.HasSuffix(l.Protocol, "/prometheus") {
			out = append(out, map[string]any{
				"node": a.cfg.Node, "description": "Warren Prometheus", "path": "/", "port": strconv.Itoa(port(l.Addr)), "protocol": l.Protocol,
			})
		}
	}
	return out
}

// socketOpts is what RabbitMQ's listeners report of their options, as far
// as Warren sets them: Nagle off on AMQP and stream sockets; the port of
// an HTTP listener (cowboy's options there are Erlang's).
func socketOpts(l broker.Listener) map[string]any {
	switch {
	case strings.HasPrefix(l.Protocol, "http"):
		o := map[string]any{"port": port(l.Addr)}
		if strings.HasSuffix(l.Protocol, "/prometheus") {
			o["protocol"] = l.Protocol
		}
		return o
	default:
		return map[string]any{"nodelay": true}
	}
}

func port(addr net.Addr) int {
	if t, ok := addr.(*net.TCPAddr); ok {
		return t.Port
	}
	_, p, _ := net.SplitHostPort(addr.String())
	n, _ := strconv.Atoi(p)
	return n
}

func (a *api) whoami(w http.ResponseWriter, _ *http.Request, p *broker.Principal) {
	tags := p.Tags
	if tags == nil {
		tags = []string{}
	}
	writeJSON(w, map[string]any{"name": p.User, "tags": tags})
}

func (a *api) nodes(w http.ResponseWriter, _ *http.Request, _ *broker.Principal) {
	writeJSON(w, []map[string]any{a.nodeInfo()})
}

func (a *api) node(w http.ResponseWriter, r *http.Request, _ *broker.Principal) {
	if pathValue(r, "name") != a.cfg.Node {
		writeNotFound(w)
		return
	}
	writeJSON(w, a.nodeInfo())
}

func (a *api) nodeInfo() map[string]any {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	al := a.b.Alarms().Status()
	if al.MemoryUsed > 0 { // what the memory alarm compares with mem_limit
		ms.Sys = uint64(al.MemoryUsed)
	}
	info := map[string]any{
		"name":            a.cfg.Node,
		"type":            "disc",
		"running":         true,
		"uptime":          time.Since(a.started).Milliseconds(),
		"os_pid":          strconv.Itoa(os.Getpid()),
		"processors":      runtime.NumCPU(),
		"mem_used":        ms.Sys,
		"mem_alarm":       al.Memory,
		"mem_limit":       al.MemoryLimit,
		"disk_free_alarm": al.Disk,
		"disk_free_limit": al.DiskFreeLimit,
		"partitions":      []string{},
		"rates_mode":      "basic",
		"exchange_types":  exchangeTypes,
		"auth_mechanisms": []map[string]any{
			{"name": "PLAIN", "description": "SASL PLAIN authentication mechanism", "enabled": true},
			{"name": "AMQPLAIN", "description": "QPid AMQPLAIN mechanism", "enabled": true},
		},
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		info["fd_total"] = lim.Cur
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		info["fd_used"] = len(fds)
	}
	var fs syscall.Statfs_t
	if syscall.Statfs(a.b.Config().DataDir, &fs) == nil {
		info["disk_free"] = fs.Bavail * uint64(fs.Bsize)
	}
	return info
}
