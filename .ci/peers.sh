#!/usr/bin/env bash
# Runs the external peers check (pika tutorials + amqp091-go's own tests,
# kept outside this repository) against a Warren started here, including
# the restart case. It is optional: without it `make test` still runs the
# project's own compatibility suite. PEERS_DIR says where it is (default
# ../shared/peers).
set -u
cd "$(dirname "$0")/.."
root=$(pwd)
peers=${PEERS_DIR:-$root/../shared/peers}
if [ ! -f "$peers/run.sh" ]; then
	echo "peers: SKIPPED, no external peers check at $peers (set PEERS_DIR to run it)"
	exit 0
fi
WARREN_WORK=$(mktemp -d "${TMPDIR:-/tmp}/warren-peers.XXXXXX")
export WARREN_WORK WARREN_BIN=$root/bin/warren
# The kernel picks the port unless PEERS_AMQP_PORT names one; a restart
# comes back on the same port.
[ -n "${PEERS_AMQP_PORT:-}" ] && echo "$PEERS_AMQP_PORT" >"$WARREN_WORK/port"
ctl=$root/.ci/warren-ctl.sh
bash "$ctl" start || exit 1
trap 'bash "$ctl" stop; rm -rf "$WARREN_WORK"' EXIT
port=$(bash "$ctl" port)
out=$WARREN_WORK/peers.out
run_peers() {
	AMQP_URL=amqp://guest:guest@127.0.0.1:$port/ \
	MGMT_URL=http://127.0.0.1:1 \
	RESTART_CMD="bash $ctl restart" \
	PEERS_EXCLUDE=${PEERS_EXCLUDE-} \
	PEERS_LOGS=$WARREN_WORK/logs \
		bash "$peers/run.sh" "$@" | tee "$out"
	return "${PIPESTATUS[0]}"
}

# Cases that need RabbitMQ extensions Warren refuses with a clear 406 until
# they land. They may fail; anything else failing fails the check. (None
# left of the Go client's: its TTL and dead-letter tests pass.)
expected='^FAIL (NONE-EXPECTED) '

# The Go client's TestRabbitMQ* (through integrationRabbitMQ) and
# TestIntegrationRecoverNotImplemented check nothing unless the server's
# product is "RabbitMQ", and leak the connection they opened to find out:
# with every test passing, the suite's goleak check then fails the run with
# no failing test named. That alone is
# expected: goleak's report names only connections left open (reader and
# heartbeater goroutines), nothing else.
goleak_only() {
	local log=$WARREN_WORK/logs/amqp091go.go-test.log
	grep -qE '^FAIL \(go test\): exited 1 with no failing test named' "$out" || return 1
	grep -q '^goleak: Errors on successful test run' "$log" 2>/dev/null || return 1
	! grep -E '^\[?\s*Goroutine [0-9]+ in state' "$log" | grep -vqE 'amqp091-go\.\(\*Connection\)\.heartbeater|internal/poll\.runtime_pollWait'
}

# judge prints the verdict; 0 = pass, 1 = fail, 2 = only the Go client's own
# unit tests against its in-process fake server failed (they use 1 ms
# timers and flake on a loaded 2-core machine; nothing there talks to us).
judge() {
	local rc=$1 total p f xf
	total=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
	[ -n "$total" ] || { echo "peers: no result line"; return 1; }
	f=$(echo "$total" | sed -E 's/.* ([0-9]+) failed/\1/')
	xf=$(grep -cE "$expected" "$out")
	goleak_only && xf=$((xf + 1))
	if [ "$f" -gt "$xf" ]; then
		if grep -A1 -E '^FAIL ' "$out" | grep -vE "$expected" | grep -qE 'integration_test.go|^FAIL [a-z_]+ |cut off|exited|setup'; then
			return 1
		fi
		return 2
	fi
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then return 1; fi
	return 0
}

run_peers; rc=$?
judge $rc; verdict=$?
if [ $verdict = 2 ]; then
	echo "peers: only the Go client's fake-server unit tests failed; running that suite once more"
	run_peers amqp091go; rc=$?
	judge $rc; verdict=$?
	[ $verdict = 2 ] && verdict=1
fi
total=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
p=${total%% passed*}
f=$(echo "$total" | sed -E 's/.* ([0-9]+) failed/\1/')
xf=$(grep -cE "$expected" "$out")
grep -E "$expected" "$out" | sed 's/^FAIL/EXPECTED-FAIL (needs the RabbitMQ extensions)/'
if goleak_only; then
	xf=$((xf + 1))
	echo "EXPECTED-FAIL amqp091go's goleak check: connections its RabbitMQ-only tests leak against a server that is not RabbitMQ"
fi
if [ $verdict != 0 ]; then echo "--- warren log (tail)"; tail -50 "$WARREN_WORK/warren.log"; fi
echo "peers: ${p:-0} passed, $((${f:-1} - xf)) failed, $xf skipped"
exit $verdict
