#!/usr/bin/env bash
# `make bench`: the go test -bench suites of the hot packages, then the
# warren-perf matrix against Warren and, when rabbitmq-server is installed,
# against RabbitMQ in the same run; the side-by-side table (ratios) replaces
# the "latest make bench" section of docs/BENCHMARKS.md.
#   env: BENCH_DURATION (10s), BENCH_SETTLE (10s), BENCH_CASES (all),
#        BENCH_SKIP_GO=1 to skip the go test -bench suites
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export GOFLAGS=${GOFLAGS:--mod=mod}
work=$(mktemp -d "${TMPDIR:-/tmp}/warren-bench.XXXXXX")
dur=${BENCH_DURATION:-10s}
settle=${BENCH_SETTLE:-10s}
cases=${BENCH_CASES:-1,2,3,4,5,6,7a,7b}
port=5673
started_rmq=
wpid=
cleanup() {
	[ -n "$wpid" ] && kill -TERM "$wpid" 2>/dev/null && wait "$wpid" 2>/dev/null
	if [ -n "$started_rmq" ]; then rabbitmqctl stop >/dev/null 2>&1 || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/warren" ./cmd/warren
go build -o "$work/warren-perf" ./bench/cmd/warren-perf
export WARREN_PERF_BIN=$work/warren-perf

if [ -z "${BENCH_SKIP_GO:-}" ]; then
	echo "== go test -bench (frame, router, segment, index, netio)"
	go test -run '^$' -bench . -benchmem -benchtime 1s ./frame/ ./router/ ./segment/ ./index/ ./netio/ | tee "$work/gobench.txt"
fi

wait_port() {
	for _ in $(seq 1 300); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

echo "== warren-perf matrix against Warren (127.0.0.1:$port)"
"$work/warren" -amqp-port $port -http-port 0 -data-dir "$work/data" -log-level warn &
wpid=$!
wait_port $port
bench/matrix.sh -uri "amqp://guest:guest@127.0.0.1:$port/" -broker-pid "$wpid" \
	-cases "$cases" -duration "$dur" -settle "$settle" -out "$work/warren.jsonl" | tee "$work/warren.md"
kill -TERM "$wpid"; wait "$wpid" 2>/dev/null || true; wpid=

have_rmq=
if command -v rabbitmq-server >/dev/null; then
	if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
		rabbitmq-server -detached >/dev/null 2>&1 && started_rmq=1
		wait_port 5672 && sleep 5
	fi
	rpid=$(ss -Hltnp "sport = :5672" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)
	if [ -n "$rpid" ]; then
		have_rmq=1
		ver=$(rabbitmqctl version 2>/dev/null || echo unknown)
		echo "== warren-perf matrix against RabbitMQ $ver (127.0.0.1:5672)"
		bench/matrix.sh -uri amqp://guest:guest@127.0.0.1:5672/ -broker-pid "$rpid" \
			-cases "$cases" -duration "$dur" -settle "$settle" -out "$work/rabbitmq.jsonl" | tee "$work/rabbitmq.md"
	fi
else
	echo "rabbitmq-server is not installed (apt-get install rabbitmq-server): Warren alone"
fi

{
	echo "<!-- bench:start (written by bench/run.sh; edit outside these markers) -->"
	echo "### Latest \`make bench\`: $(date -u +%Y-%m-%d\ %H:%MZ)"
	echo
	echo "Machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB;" \
		"load tool and broker share it over loopback; ${dur} per case."
	echo
	if [ -n "$have_rmq" ]; then
		echo "RabbitMQ: ${ver} (default configuration). Each cell: Warren / RabbitMQ (ratio)."
		echo
		bench/matrix.sh compare "$work/warren.jsonl" "$work/rabbitmq.jsonl" warren rabbitmq
	else
		echo "Warren only (RabbitMQ not installed in this run):"
		echo
		cat "$work/warren.md"
	fi
	echo "<!-- bench:end -->"
} >"$work/section.md"

doc=docs/BENCHMARKS.md
if grep -q '<!-- bench:start' "$doc" 2>/dev/null; then
	awk -v f="$work/section.md" '
		/<!-- bench:start/ { while ((getline l < f) > 0) print l; skip=1; next }
		/<!-- bench:end -->/ { skip=0; next }
		!skip { print }' "$doc" >"$work/doc.md"
	cp "$work/doc.md" "$doc"
else
	cat "$work/section.md" >>"$doc"
fi
mkdir -p bench/results
cp "$work/section.md" "bench/results/make-bench-$(date -u +%Y%m%d-%H%M).md"
echo "== wrote $doc"
