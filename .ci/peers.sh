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
		bash "$peers/run.sh" "$@" | tee "$out"
	return "${PIPESTATUS[0]}"
}

# Cases that need RabbitMQ extensions Warren refuses with a clear 406 until
# they land. They may fail; anything else failing fails the check. (None
# left of the Go client's: its TTL and dead-letter tests pass.)
expected='^FAIL (NONE-EXPECTED) '

# judge prints the verdict; 0 = pass, 1 = fail, 2 = only the Go client's own
# unit tests against its in-process fake server failed (they use 1 ms
# timers and flake on a loaded 2-core machine; nothing there talks to us).
judge() {
	local rc=$1 total p f xf
	total=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
	[ -n "$total" ] || { echo "peers: no result line"; return 1; }
	f=$(echo "$total" | sed -E 's/.* ([0-9]+) failed/\1/')
	xf=$(grep -cE "$expected" "$out")
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
if [ $verdict != 0 ]; then echo "--- warren log (tail)"; tail -50 "$WARREN_WORK/warren.log"; fi
echo "peers: ${p:-0} passed, $((${f:-1} - xf)) failed, $xf skipped"
exit $verdict
