#!/usr/bin/env bash
# Runs the standard warren-perf matrix against one broker and prints one
# markdown table row per case; RESULT lines go to -out for later comparison.
#
#   bench/matrix.sh [-uri URI] [-client fast|amqp091] [-broker-pid PID]
#                   [-out FILE.jsonl] [-cases 1,2,7a] [-duration 10s] [-quiet]
#   bench/matrix.sh compare A.jsonl B.jsonl [LABEL_A LABEL_B]
#
# Without -broker-pid the pid of the process listening on the URI's port is
# looked up with ss, so the CPU and RSS columns fill in for a local broker.
# Example for `make bench` (Warren on 5673, RabbitMQ on 5672):
#   bench/matrix.sh -uri amqp://guest:guest@127.0.0.1:5673/ -out /tmp/warren.jsonl
#   bench/matrix.sh -uri amqp://guest:guest@127.0.0.1:5672/ -out /tmp/rabbitmq.jsonl
#   bench/matrix.sh compare /tmp/warren.jsonl /tmp/rabbitmq.jsonl warren rabbitmq
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${WARREN_PERF_BIN:-}
if [[ -z $bin ]]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	bin=$tmp/warren-perf
	(cd "$root" && GOFLAGS=-mod=mod go build -o "$bin" ./bench/cmd/warren-perf)
fi

if [[ ${1:-} == compare ]]; then
	[[ $# -ge 3 ]] || { echo "usage: $0 compare A.jsonl B.jsonl [LABEL_A LABEL_B]" >&2; exit 2; }
	"$bin" compare -a "${4:-A}" -b "${5:-B}" "$2" "$3"
	exit
fi

uri=amqp://guest:guest@127.0.0.1:5672/
pid=
args=()
while [[ $# -gt 0 ]]; do
	case $1 in
	-uri) uri=$2; shift 2 ;;
	-broker-pid) pid=$2; shift 2 ;;
	*) args+=("$1"); shift ;;
	esac
done

if [[ -z $pid ]]; then
	hostport=${uri#*://}
	hostport=${hostport#*@}
	hostport=${hostport%%/*}
	port=${hostport##*:}
	[[ $port == "$hostport" || -z $port ]] && port=5672
	pid=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)
fi
pid=${pid:-0}
echo "# warren-perf matrix: $uri broker pid $pid, $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" >&2
"$bin" matrix -uri "$uri" -broker-pid "$pid" ${args[@]+"${args[@]}"}
