#!/usr/bin/env bash
# start|stop|restart a Warren for the peers check. Needs WARREN_WORK (pid
# file and log live there), WARREN_PORT and WARREN_CMD in the environment.
set -u
pidf=$WARREN_WORK/pid
log=$WARREN_WORK/warren.log
start() {
	$WARREN_CMD >>"$log" 2>&1 &
	echo $! >"$pidf"
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$WARREN_PORT") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "warren did not start"; tail -20 "$log"; return 1
}
stop() {
	local pid
	pid=$(cat "$pidf" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	echo "warren did not stop on SIGTERM within 10 s; killing it"
	kill -KILL "$pid" 2>/dev/null
	for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}
case ${1:-} in
start) start ;;
stop) stop ;;
restart) stop; start ;;
*) echo "usage: $0 start|stop|restart"; exit 2 ;;
esac
