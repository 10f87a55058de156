#!/usr/bin/env bash
# `make bench`: the go test -bench suites of the hot packages, then the
# warren-perf matrix against Warren and, when rabbitmq-server is installed,
# against RabbitMQ in the same run (both with TLS, a permission-checked
# user and a metrics scraper); the side-by-side table (ratios), the client
# cross-check, the 10 M backlog and the stream protocol case replace the "latest make bench" section
# of docs/BENCHMARKS.md, and docs/bench-results.{csv,json} and
# docs/bench-matrix.svg are rewritten.
#   env: BENCH_QUICK=1 (a 3-minute check: 2 s cases, a subset, no go test
#        -bench, no backlog, docs/ left alone unless BENCH_WRITE_DOCS=1),
#        BENCH_DURATION (6s), BENCH_SETTLE (4s), BENCH_CASES (all),
#        BENCH_SKIP_GO=1, BENCH_SKIP_BACKLOG=1, BENCH_BACKLOG_N (10000000),
#        BENCH_SKIP_STREAM=1 (bench/stream.sh; STREAM_DURATION, STREAM_MESSAGES),
#        BENCH_WRITE_DOCS=0 to leave docs/ alone.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export GOFLAGS=${GOFLAGS:--mod=mod}
work=$(mktemp -d "${TMPDIR:-/tmp}/warren-bench.XXXXXX")
chmod 755 "$work" # RabbitMQ (user rabbitmq) reads the TLS files in it
quick=${BENCH_QUICK:-}
if [ -n "$quick" ]; then
	dur=${BENCH_DURATION:-2s}
	settle=${BENCH_SETTLE:-0s}
	cases=${BENCH_CASES:-1,1a,2,3,7a,7c,8,9,10,11,12,13,14,14r,15h}
	BENCH_SKIP_GO=${BENCH_SKIP_GO:-1}
	BENCH_SKIP_BACKLOG=${BENCH_SKIP_BACKLOG:-1}
	write_docs=${BENCH_WRITE_DOCS:-0}
else
	dur=${BENCH_DURATION:-6s}
	settle=${BENCH_SETTLE:-4s}
	cases=${BENCH_CASES:-}
	write_docs=${BENCH_WRITE_DOCS:-1}
fi
started_rmq=
rmq_tls_port=
wpid=
cleanup() {
	[ -n "$wpid" ] && kill -TERM "$wpid" 2>/dev/null && wait "$wpid" 2>/dev/null
	if [ -n "$rmq_tls_port" ]; then
		rabbitmqctl eval "rabbit_networking:stop_tcp_listener($rmq_tls_port)." >/dev/null 2>&1 || true
	fi
	if [ -n "$started_rmq" ]; then rabbitmqctl stop >/dev/null 2>&1 || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

# free_port prints a TCP port nothing listens on (from a random start).
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 30000))
		if ! ss -Hltn "sport = :$p" | grep -q .; then echo "$p"; return 0; fi
	done
	return 1
}
wait_port() {
	for _ in $(seq 1 300); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
machine="$(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
started_at=$(date -u +%Y-%m-%dT%H:%MZ)

go build -o "$work/warren" ./cmd/warren
go build -o "$work/warren-perf" ./bench/cmd/warren-perf
go build -o "$work/warren-backlog" ./bench/cmd/warren-backlog
export WARREN_PERF_BIN=$work/warren-perf

if [ -z "${BENCH_SKIP_GO:-}" ]; then
	echo "== go test -bench (frame, router, segment, index, netio)"
	go test -run '^$' -bench . -benchmem -benchtime 1s ./frame/ ./router/ ./segment/ ./index/ ./netio/ | tee "$work/gobench.txt"
fi

# A throwaway CA and server certificate for the TLS cases (both brokers).
tls=$work/tls
mkdir -p "$tls"
have_tls=
if command -v openssl >/dev/null &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tls/ca.key" -out "$tls/ca.pem" \
		-days 2 -subj /CN=warren-bench-ca >/dev/null 2>&1 &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tls/server.key" -out "$tls/server.csr" \
		-subj /CN=localhost >/dev/null 2>&1 &&
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$tls/ext.cnf" &&
	openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
		-out "$tls/server.pem" -days 2 -extfile "$tls/ext.cnf" >/dev/null 2>&1; then
	chmod 755 "$tls" && chmod 644 "$tls"/*
	have_tls=1
else
	echo "openssl failed or missing: the TLS cases are skipped"
fi

port=$(free_port)
tport=$(free_port)
hport=$(free_port)
pport=$(free_port)
wargs=(-amqp-port "$port" -http-port "$hport" -prometheus-port "$pport" -stream-port 0 -data-dir "$work/data" -log-level warn)
wextra=()
[ -n "$have_tls" ] && wargs+=(-amqps-port "$tport" -tls-cert "$tls/server.pem" -tls-key "$tls/server.key") &&
	wextra+=(-tls-uri "amqps://guest:guest@localhost:$tport/" -tls-ca "$tls/ca.pem")
echo "== warren-perf matrix against Warren (127.0.0.1:$port, amqps $tport, http $hport, prometheus $pport)"
"$work/warren" "${wargs[@]}" &
wpid=$!
wait_port "$port"
wait_port "$hport"
bench/matrix.sh -uri "amqp://guest:guest@127.0.0.1:$port/" -broker-pid "$wpid" ${cases:+-cases "$cases"} \
	-duration "$dur" -settle "$settle" -out "$work/warren.jsonl" \
	-mgmt "http://guest:guest@127.0.0.1:$hport" -metrics "http://127.0.0.1:$pport/metrics" \
	${wextra[@]+"${wextra[@]}"} | tee "$work/warren.md" || echo "(some Warren cases failed: see the table)"
kill -TERM "$wpid"; wait "$wpid" 2>/dev/null || true; wpid=

have_rmq=
ver=
if command -v rabbitmq-server >/dev/null; then
	if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
		rabbitmq-server -detached >/dev/null 2>&1 && started_rmq=1
		wait_port 5672 && sleep 5
	fi
	rpid=$(ss -Hltnp "sport = :5672" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)
	if [ -n "$rpid" ]; then
		have_rmq=1
		ver=$(rabbitmqctl version 2>/dev/null || echo unknown)
		rextra=()
		if [ -n "$have_tls" ]; then
			# A TLS listener added at run time (not persisted; removed on exit).
			p=$(free_port)
			if rabbitmqctl eval "rabbit_networking:start_ssl_listener($p, [{certfile,\"$tls/server.pem\"},{keyfile,\"$tls/server.key\"}], 1)." 2>/dev/null | grep -q '^ok' &&
				wait_port "$p"; then
				rmq_tls_port=$p
				rextra+=(-tls-uri "amqps://guest:guest@localhost:$p/" -tls-ca "$tls/ca.pem")
			else
				echo "could not add a TLS listener to RabbitMQ (rabbitmqctl eval): its TLS cases are skipped"
			fi
		fi
		rcases=$cases
		if [ -z "$rcases" ]; then
			# Case 15 (1,032 connections) is left out: RabbitMQ's default
			# limit is 832 sockets, and it is shared with other users.
			rcases=$("$work/warren-perf" matrix -list | awk -F'\t' 'NF==2 && $1!="" && $1!="15" {printf "%s%s", s, $1; s=","}')
		fi
		echo "== warren-perf matrix against RabbitMQ $ver (127.0.0.1:5672)"
		bench/matrix.sh -uri amqp://guest:guest@127.0.0.1:5672/ -broker-pid "$rpid" -cases "$rcases" \
			-duration "$dur" -settle "$settle" -out "$work/rabbitmq.jsonl" \
			-mgmt "http://guest:guest@127.0.0.1:15672" -metrics "http://127.0.0.1:15692/metrics" \
			${rextra[@]+"${rextra[@]}"} | tee "$work/rabbitmq.md" || echo "(some RabbitMQ cases failed: see the table)"
	fi
else
	echo "rabbitmq-server is not installed (apt-get install rabbitmq-server): Warren alone"
fi

# The 10 M backlog (RSS with it queued, disk per message, restart to first
# delivery after SIGTERM and SIGKILL, drain) on a fresh Warren.
if [ -z "${BENCH_SKIP_BACKLOG:-}" ]; then
	n=${BENCH_BACKLOG_N:-10000000}
	bport=$(free_port)
	echo "== warren-backlog, $n messages (127.0.0.1:$bport)"
	bcmd="$work/warren -amqp-port $bport -http-port 0 -prometheus-port 0 -data-dir $work/bdata -log-level warn"
	$bcmd &
	wpid=$!
	wait_port "$bport"
	(cd "$work" && "$work/warren-backlog" -uri "amqp://guest:guest@127.0.0.1:$bport/" -n "$n" -size 100 \
		-pid "$wpid" -data-dir "$work/bdata" -restarts 2 -stop-signal TERM,KILL -restart-cmd "$bcmd" -label warren) |
		tee "$work/backlog.txt" || echo "(backlog run failed)"
	# The restarted broker is the tool's child; whatever is still listening goes.
	kill -TERM "$wpid" 2>/dev/null || true
	wait "$wpid" 2>/dev/null || true
	wpid=
	lp=$(ss -Hltnp "sport = :$bport" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)
	[ -n "$lp" ] && kill -TERM "$lp" 2>/dev/null || true
fi

# The stream protocol (bench/stream.sh): Warren's stream listener and
# RabbitMQ's stream plugin on 5552 when it listens, in the same run.
if [ -z "${BENCH_SKIP_STREAM:-}" ]; then
	echo "== bench/stream.sh (stream protocol: Warren, and RabbitMQ's stream plugin if on 5552)"
	if [ -n "$quick" ]; then sdur=${STREAM_DURATION:-2s} smsgs=${STREAM_MESSAGES:-1000000}; else sdur=${STREAM_DURATION:-10s} smsgs=${STREAM_MESSAGES:-20000000}; fi
	STREAM_OUT="$work/stream.jsonl" WARREN_BIN="$work/warren" STREAM_PORT="$(free_port)" STREAM_DURATION="$sdur" STREAM_MESSAGES="$smsgs" \
		bench/stream.sh | tee "$work/stream.md" || echo "(stream run failed)"
fi

rep=("warren=$work/warren.jsonl")
[ -n "$have_rmq" ] && rep+=("rabbitmq=$work/rabbitmq.jsonl")
out=$work/bench
"$work/warren-perf" report -out "$out" -title "warren-perf matrix, $started_at, $machine (shared)" \
	-meta "date=$started_at" -meta "machine=$machine" -meta "duration=$dur" -meta "rabbitmq=${ver:-none}" \
	"${rep[@]}" >"$work/crosscheck.md"
[ -s "$work/stream.jsonl" ] && python3 bench/stream_merge.py "$work/stream.jsonl" "$out-results.csv" "$out-results.json"
# A PNG beside the SVG when a converter is at hand.
png_of() {
	local h
	h=$(grep -o 'height="[0-9]*"' "$1" | head -1 | tr -dc 0-9)
	if command -v rsvg-convert >/dev/null; then
		rsvg-convert -o "$2" "$1"
	elif command -v chromium >/dev/null; then
		timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --screenshot="$2" \
			--window-size="1140,$((${h:-800} + 20))" "file://$1" >/dev/null 2>&1
	fi
}
png_of "$out-matrix.svg" "$out-matrix.png" || true

{
	echo "<!-- bench:start (written by bench/run.sh; edit outside these markers) -->"
	echo "### Latest \`make bench\`: $started_at"
	echo
	echo "Machine: $machine; load tool and broker share it over loopback; ${dur} per case;" \
		"load average at the end $(cut -d' ' -f1-3 /proc/loadavg). The \"other load\" column of the per-broker" \
		"tables (bench/results) is the CPU other processes took meanwhile. Plot: [bench-matrix.svg](bench-matrix.svg);" \
		"data: [bench-results.csv](bench-results.csv), [bench-results.json](bench-results.json)."
	echo
	if [ -n "$have_rmq" ]; then
		echo "RabbitMQ: ${ver} (default configuration). Each cell: Warren / RabbitMQ (ratio)."
		echo
		bench/matrix.sh compare "$work/warren.jsonl" "$work/rabbitmq.jsonl" warren rabbitmq
		echo
		echo "Client cross-check (cases 1 and 2 through three client paths; the last column divides by RabbitMQ's best):"
		echo
		cat "$work/crosscheck.md"
	else
		echo "Warren only (RabbitMQ not installed in this run):"
		echo
		cat "$work/warren.md"
	fi
	if [ -s "$work/backlog.txt" ]; then
		echo
		echo "Backlog (\`warren-backlog\`, restarts timed after SIGTERM and SIGKILL): $(grep -m1 '^### ' "$work/backlog.txt" | sed 's/^### backlog: //')"
		echo
		grep '^|' "$work/backlog.txt"
	fi
	if [ -s "$work/stream.md" ] && grep -q '^|' "$work/stream.md"; then
		echo
		echo "Streams (\`bench/stream.sh\`: \`bench/streamperf\` over the stream protocol, ${sdur} per publish case," \
			"${smsgs} x 16 B read from first by 1 consumer, then by 10; RabbitMQ's stream plugin in its default configuration):"
		echo
		grep '^|' "$work/stream.md"
	fi
	echo "<!-- bench:end -->"
} >"$work/section.md"

mkdir -p bench/results
stamp=$(date -u +%Y%m%d-%H%M)
cp "$work/section.md" "bench/results/make-bench-$stamp.md"
cp "$work/warren.md" "bench/results/make-bench-$stamp-warren.md"
[ -n "$have_rmq" ] && cp "$work/rabbitmq.md" "bench/results/make-bench-$stamp-rabbitmq.md"
if [ "$write_docs" = 1 ]; then
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
	cp "$out-results.csv" "$out-results.json" "$out-matrix.svg" docs/
	[ -s "$out-matrix.png" ] && cp "$out-matrix.png" docs/
	echo "== wrote $doc, docs/bench-results.csv, docs/bench-results.json, docs/bench-matrix.svg (and .png)"
else
	cp "$out-results.csv" "$out-results.json" "$out-matrix.svg" "$out-matrix.png" bench/results/ 2>/dev/null || true
	echo "== quick run: docs/ left alone; tables and plot in bench/results/ (make-bench-$stamp*.md, bench-matrix.svg)"
	cat "$work/section.md"
fi
