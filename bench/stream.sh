#!/usr/bin/env bash
# The stream protocol case of `make bench`: bench/streamperf against
# Warren's stream listener and, when its stream plugin listens on 5552,
# RabbitMQ's, in the same run; prints a markdown table with ratios.
#   publish 16 B and 1 KiB with confirms, 1 producer (STREAM_DURATION each);
#   1, then 10 consumers reading the same stream from first (STREAM_MESSAGES
#   of 16 B published first to each broker, read by every consumer), with
#   what the broker read from disk meanwhile (/proc/PID/io read_bytes).
#   env: STREAM_DURATION (10s), STREAM_MESSAGES (20000000), STREAM_PORT (5563),
#        STREAM_OUT (a file for the RESULT lines), WARREN_BIN / STREAMPERF_BIN (prebuilt)
# bench/run.sh can call it as: bench/stream.sh | tee "$work/stream.md"
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export GOFLAGS=${GOFLAGS:--mod=mod}
dur=${STREAM_DURATION:-10s}
msgs=${STREAM_MESSAGES:-20000000}
port=${STREAM_PORT:-5563}
work=$(mktemp -d "${TMPDIR:-/tmp}/warren-stream-bench.XXXXXX")
wpid=
cleanup() {
	[ -n "$wpid" ] && kill -TERM "$wpid" 2>/dev/null && wait "$wpid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
warren=${WARREN_BIN:-}
perf=${STREAMPERF_BIN:-}
if [ -z "$warren" ]; then go build -o "$work/warren" ./cmd/warren; warren=$work/warren; fi
if [ -z "$perf" ]; then go build -o "$work/streamperf" ./bench/streamperf; perf=$work/streamperf; fi

wait_port() {
	for _ in $(seq 1 300); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

"$warren" -amqp-port 0 -http-port 0 -prometheus-port 0 -stream-port "$port" -data-dir "$work/data" -log-level warn &
wpid=$!
wait_port "$port"
targets="warren=127.0.0.1:$port=$wpid"
rpid=$(ss -Hltnp "sport = :5552" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)
if [ -n "$rpid" ]; then
	targets="$targets rabbitmq=127.0.0.1:5552=$rpid"
else
	echo "no stream plugin on 5552 (rabbitmq-plugins enable rabbitmq_stream): Warren alone" >&2
fi

results=$work/results.jsonl
: >"$results"
run() { # label addr pid case args...
	local label=$1 addr=$2 pid=$3 case=$4; shift 4
	local out line
	sync # the previous case's dirty pages written back: each case starts from a clean page cache
	if ! out=$("$perf" -addr "$addr" -broker-pid "$pid" "$@" 2>&1); then
		echo "$label $case failed: $(echo "$out" | tail -2)" >&2
		return 0
	fi
	line=$(echo "$out" | grep '^RESULT ' | cut -c8-)
	echo "{\"target\":\"$label\",\"case\":\"$case\",\"r\":$line}" >>"$results"
}
for t in $targets; do
	IFS== read -r label addr pid <<<"$t"
	sleep 3 # let the previous run's fsyncs settle
	run "$label" "$addr" "$pid" publish-16B -mode publish -size 16 -batch 1000 -window 20000 -duration "$dur" -stream streamperf-16
	sleep 3
	run "$label" "$addr" "$pid" publish-1KiB -mode publish -size 1024 -batch 200 -window 40000 -duration "$dur" -stream streamperf-1k
	sleep 3
	if ! out=$("$perf" -addr "$addr" -mode publish -size 16 -messages "$msgs" -duration 120s -stream streamperf-fan 2>&1); then
		echo "$label: filling streamperf-fan failed: $(echo "$out" | tail -2)" >&2
	fi
	sleep 3
	run "$label" "$addr" "$pid" consume-1x-first -mode consume -consumers 1 -messages "$msgs" -duration 120s -stream streamperf-fan
	run "$label" "$addr" "$pid" consume-10x-first -mode consume -consumers 10 -messages "$msgs" -duration 120s -stream streamperf-fan
	# Leave no streams behind on the shared RabbitMQ.
	for s in streamperf-16 streamperf-1k streamperf-fan; do
		"$perf" -addr "$addr" -mode delete -stream "$s" >/dev/null 2>&1 || true
	done
done
if [ -n "${STREAM_OUT:-}" ]; then cp "$results" "$STREAM_OUT"; fi

python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows:
    by.setdefault(r["case"], {})[r["target"]] = r["r"]
def cell(r):
    s = f'{r["msg_per_s"]/1e6:.2f} M msg/s'
    if r.get("broker_cpu_s"):
        s += f' (broker CPU {r["broker_cpu_s"]:.1f} s, {r["broker_cpu_s"]*1e9/r["messages"]:.1f} ns/msg'
        if r["mode"] == "consume" and r.get("broker_disk_read_bytes", -1) >= 0:
            s += f', {r["broker_disk_read_bytes"]/2**20:.1f} MiB from disk'
        s += ')'
    return s
print("| case | Warren | RabbitMQ | ratio |")
print("|---|---|---|---|")
for case in ["publish-16B", "publish-1KiB", "consume-1x-first", "consume-10x-first"]:
    c = by.get(case, {})
    w, q = c.get("warren"), c.get("rabbitmq")
    ratio = f'{w["msg_per_s"]/q["msg_per_s"]:.1f}x' if w and q else "-"
    print(f'| {case} | {cell(w) if w else "-"} | {cell(q) if q else "-"} | {ratio} |')
PY
