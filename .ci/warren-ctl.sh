#!/usr/bin/env bash
# start|stop|restart a Warren for the CI scripts.
#
# Environment: WARREN_WORK (a directory: data/, warren.log, pid and port live
# there), WARREN_BIN (default bin/warren), WARREN_ARGS (extra flags).
# The first start lets the kernel pick the AMQP port (-amqp-port 0) and
# reads it back from the "warren started" log line into $WARREN_WORK/port,
# so no other process can take it between choosing and binding. A restart
# rebinds that same port (clients reconnect to the URL they know); if
# another process took it meanwhile, it retries for a while.
set -u
: "${WARREN_WORK:?WARREN_WORK must name a directory}"
bin=${WARREN_BIN:-bin/warren}
pidf=$WARREN_WORK/pid
portf=$WARREN_WORK/port
log=$WARREN_WORK/warren.log

start_once() {
	local port=$1 before pid line
	before=$(grep -c 'msg="warren started"' "$log" 2>/dev/null)
	# shellcheck disable=SC2086 # WARREN_ARGS is a list of flags
	"$bin" -bind 127.0.0.1 -amqp-port "$port" -http-port 0 -data-dir "$WARREN_WORK/data" ${WARREN_ARGS:-} >>"$log" 2>&1 &
	pid=$!
	echo "$pid" >"$pidf"
	for _ in $(seq 1 600); do # 60 s: recovery of a large data dir on a busy machine
		line=$(grep 'msg="warren started"' "$log" 2>/dev/null | sed -n "$((before + 1))p")
		if [ -n "$line" ]; then
			echo "$line" | sed -E 's/.* amqp=[^ ]*:([0-9]+) .*/\1/' >"$portf"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			tail -5 "$log" | grep -q 'address already in use' && return 2
			return 1
		fi
		sleep 0.1
	done
	return 1
}

start() {
	mkdir -p "$WARREN_WORK"
	local port=0 rc
	[ -s "$portf" ] && port=$(cat "$portf")
	for _ in $(seq 1 30); do
		start_once "$port"; rc=$?
		[ $rc = 0 ] && return 0
		[ $rc = 2 ] || break
		echo "warren-ctl: port $port is taken; retrying" >&2
		sleep 1
	done
	echo "warren-ctl: warren did not start; log tail:" >&2
	tail -20 "$log" >&2
	return 1
}

stop() {
	local pid
	pid=$(cat "$pidf" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	echo "warren-ctl: warren did not stop within 30 s of SIGTERM; killing it" >&2
	kill -KILL "$pid" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

case ${1:-} in
start) start ;;
stop) stop ;;
restart) stop && start ;;
port) cat "$portf" ;;
*) echo "usage: $0 start|stop|restart|port" >&2; exit 2 ;;
esac
